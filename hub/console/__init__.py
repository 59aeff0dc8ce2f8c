"""The operator console (``/console``) and the integration portal (``/portal``): HTML
pages the hub renders itself over the same services the admin API calls.

``sessions`` (who is signed in, their CSRF token), ``render`` (Jinja2, the vendored
assets), ``auth`` (sign in and out, the guard every page passes), ``pages`` (the
console's pages), ``overview`` (the dashboard's figures) and ``portal`` (one
integration's pages, opened by a link ``hub.admin.portal_links`` signs).
"""
