"""The authorization endpoint and its pages (RFC 6749 §4.1, OIDC Core §3.1.2), as services.

``outcomes`` names what the web layer shows or where it redirects; ``pending`` carries a
request across the sign-in and consent forms; ``endpoint`` is the pipeline; ``sign_in`` takes
the sign-in form and ``password_change`` the new password of a user who must choose one;
``codes`` issues the authorization code.
"""
