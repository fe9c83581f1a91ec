// plotly.js with only the traces the dashboards draw. The core holds scatter, the axes, hover, the legend and the
// modebar; bar and heatmap are the only other trace types a page uses (dashboards/README: "What the browser
// loads"). A figure with any other type draws nothing here, and test_pages holds every page's traces to this list.
const Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap')]);

module.exports = Plotly;
