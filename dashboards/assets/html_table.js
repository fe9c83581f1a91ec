// bithedge.HtmlTable: a table the server renders as escaped HTML (dashboards/ui.py `table`), one Dash component for
// the whole table. Dash's renderer runs selectors for every component on each store change, so a page whose tables
// were a component per cell (2,000 on Pools) paid for each cell on every callback and on its first render.
(function () {
  function follow(ev) {
    // a cell's link moves inside the app, as dcc.Link does (history, then Dash's location event)
    const a = ev.target.closest("a[data-link]");
    if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    window.history.pushState({}, "", a.getAttribute("href"));
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  }
  function HtmlTable(props) {
    return React.createElement("div", {id: props.id, className: props.className, onClick: follow,
                                       dangerouslySetInnerHTML: {__html: props.html}});
  }
  window.bithedge = Object.assign(window.bithedge || {}, {HtmlTable: HtmlTable});
})();
