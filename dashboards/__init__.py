"""The analysts' Dash app over the ``analytics`` views (``bithedge dashboards serve``)."""
