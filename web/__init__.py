"""The workbench (工作台): web pages for the intake desk, the handling units, the center, the
supervisors and the citizen, served by the API process at `/` (same origin, nothing from outside).

The pages are static HTML, CSS and JavaScript (web/static/, no build step) that call the product's
own JSON API with fetch; a signed-in browser is authenticated by a server-side session cookie
(web/session.py) that the API's auth dependency accepts beside Bearer tokens."""
