"""The message catalogue of the sign-in pages: every key in English and German.

Placeholders are ``str.format`` fields (``{client}``); a message holds no markup and no literal
braces, and both languages of a key name the same placeholders (tests/web/test_pages.py checks
both). The German addresses the reader as "Sie".

Error pages take a title key ``error.<kind>`` and show ``error.<kind>.help`` beneath it; the
explanations never send the person back to the application by a link, since the redirect URI
may be the very thing that cannot be trusted.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "page.language": "Language",
        # sign_in.html
        "sign_in.title": "Sign in",
        "sign_in.lead": "Sign in to continue to {client}",
        "sign_in.username": "Username",
        "sign_in.password": "Password",
        "sign_in.submit": "Sign in",
        "sign_in.failed": "Invalid username or password.",
        "sign_in.throttled": "Too many sign-in attempts. Please try again in {seconds} seconds.",
        "sign_in.throttled.one": "Too many sign-in attempts. Please try again in 1 second.",
        "sign_in.change_expired": "Please sign in again to choose your new password.",
        # password_change.html
        "password_change.title": "Choose a new password",
        "password_change.lead": (
            "You are signing in as {name}. Choose a new password to continue to {client}."
        ),
        "password_change.new": "New password",
        "password_change.hint": "At least 8 characters, not your current password.",
        "password_change.repeat": "Repeat the new password",
        "password_change.submit": "Save and continue",
        "password_change.rules": "The new password must be at least 8 and at most 256 characters long.",
        "password_change.mismatch": "The two new passwords are not the same.",
        "password_change.same": "The new password must differ from your current one.",
        # consent.html
        "consent.title": "Allow access",
        "consent.heading": "{client} wants to access your account",
        "consent.requested": "Requested access",
        "consent.note": "Only allow access if you trust {client}.",
        "consent.remember": "Remember this decision",
        "consent.allow": "Allow",
        "consent.deny": "Deny",
        # logout.html, signed_out.html
        "logout.title": "Sign out",
        "logout.heading": "Sign out?",
        "logout.help": (
            "You will be signed out of {tenant} in this browser, and of the applications you use with it."
        ),
        "logout.submit": "Sign out",
        "signed_out.title": "Signed out",
        "signed_out.heading": "You are signed out",
        "signed_out.help": "You can close this window now.",
        # account.html
        "account.title": "Account",
        "account.heading": "Hello, {name}",
        "account.profile": "Your profile",
        "account.username": "Username",
        "account.name": "Name",
        "account.email": "Email",
        "account.applications": "Applications",
        "account.no_applications": "No application has access to your account.",
        "account.granted": "You allowed this application:",
        "account.offline": "It may keep acting for you while you are away (offline access).",
        "account.not_granted": "You have not granted this application access.",
        "account.withdraw": "Remove access",
        "account.withdrawn": "Access removed. The application will ask you again next time.",
        "account.nothing_withdrawn": "That application had no access to remove.",
        "account.sign_out": "Sign out",
        "error.access_denied": "Access denied",
        "error.access_denied.help": "Your account may not use this console.",
        "error.console_sign_in": "Sign-in did not complete",
        "error.console_sign_in.help": "Please start again from the console's address.",
        # denied.html
        "denied.title": "No access",
        "denied.heading": "You do not have access to {client}",
        "denied.help": (
            "Your account is not permitted to use this application. "
            "An administrator of {tenant} must first grant you a role for it."
        ),
        "denied.continue": "Back to the application",
        # error.html
        "error.status": "Error {status}",
        "error.invalid_request": "The request cannot be handled",
        "error.invalid_request.help": (
            "The link that brought you here is incomplete or faulty. "
            "Please contact the provider of the application you wanted to use."
        ),
        "error.unknown_client": "Unknown application",
        "error.unknown_client.help": (
            "The link that brought you here names an application that is not registered here. "
            "Please contact the provider of the application you wanted to use."
        ),
        "error.redirect_uri": "The return address is not registered",
        "error.redirect_uri.help": (
            "The link that brought you here asks to return to an address that is not registered "
            "for this application, so you will not be sent there. "
            "Please contact the provider of the application you wanted to use."
        ),
        "error.expired": "This page has expired",
        "error.expired.help": (
            "The sign-in took too long or the form was sent twice. "
            "Please open the application again and start over."
        ),
        "error.server_error": "Something went wrong",
        "error.server_error.help": "An unexpected error occurred on our side. Please try again later.",
        # scope descriptions for the consent page (the caller localises them with translate())
        "scope.openid": "Sign you in with your account",
        "scope.profile": "Your name and username",
        "scope.email": "Your e-mail address",
        "scope.offline_access": "Stay signed in: access while you are away",
        "scope.address": "Your postal address",
        "scope.phone": "Your phone number",
    },
    "de": {
        "page.language": "Sprache",
        # sign_in.html
        "sign_in.title": "Anmelden",
        "sign_in.lead": "Melden Sie sich an, um mit {client} fortzufahren",
        "sign_in.username": "Benutzername",
        "sign_in.password": "Passwort",
        "sign_in.submit": "Anmelden",
        "sign_in.failed": "Benutzername oder Passwort ist falsch.",
        "sign_in.throttled": (
            "Zu viele Anmeldeversuche. Bitte versuchen Sie es in {seconds} Sekunden erneut."
        ),
        "sign_in.throttled.one": "Zu viele Anmeldeversuche. Bitte versuchen Sie es in 1 Sekunde erneut.",
        "sign_in.change_expired": "Bitte melden Sie sich erneut an, um Ihr neues Passwort festzulegen.",
        # password_change.html
        "password_change.title": "Neues Passwort festlegen",
        "password_change.lead": (
            "Sie melden sich als {name} an. Legen Sie ein neues Passwort fest, um mit {client} fortzufahren."
        ),
        "password_change.new": "Neues Passwort",
        "password_change.hint": "Mindestens 8 Zeichen, nicht Ihr bisheriges Passwort.",
        "password_change.repeat": "Neues Passwort wiederholen",
        "password_change.submit": "Speichern und fortfahren",
        "password_change.rules": "Das neue Passwort muss mindestens 8 und höchstens 256 Zeichen lang sein.",
        "password_change.mismatch": "Die beiden neuen Passwörter stimmen nicht überein.",
        "password_change.same": "Das neue Passwort muss sich von Ihrem bisherigen unterscheiden.",
        # consent.html
        "consent.title": "Zugriff erlauben",
        "consent.heading": "{client} möchte auf Ihr Konto zugreifen",
        "consent.requested": "Angefragter Zugriff",
        "consent.note": "Erlauben Sie den Zugriff nur, wenn Sie {client} vertrauen.",
        "consent.remember": "Diese Entscheidung merken",
        "consent.allow": "Zulassen",
        "consent.deny": "Ablehnen",
        # logout.html, signed_out.html
        "logout.title": "Abmelden",
        "logout.heading": "Abmelden?",
        "logout.help": (
            "Sie werden in diesem Browser von {tenant} abgemeldet "
            "und von den Anwendungen, die Sie damit nutzen."
        ),
        "logout.submit": "Abmelden",
        "signed_out.title": "Abgemeldet",
        "signed_out.heading": "Sie sind abgemeldet",
        "signed_out.help": "Sie können dieses Fenster jetzt schließen.",
        # account.html
        "account.title": "Account Verwaltung",
        "account.heading": "Hallo, {name}",
        "account.profile": "Ihr Profil",
        "account.username": "Benutzername",
        "account.name": "Name",
        "account.email": "E-Mail",
        "account.applications": "Applikationen",
        "account.no_applications": "Keine Applikation hat Zugriff auf Ihr Konto.",
        "account.granted": "Sie haben dieser Applikation erlaubt:",
        "account.offline": "Sie darf auch in Ihrer Abwesenheit für Sie handeln (Offline-Zugriff).",
        "account.not_granted": "Sie haben dieser Applikation keinen Zugriff gewährt.",
        "account.withdraw": "Zugriff entziehen",
        "account.withdrawn": "Zugriff entzogen. Die Applikation fragt Sie beim nächsten Mal erneut.",
        "account.nothing_withdrawn": "Diese Applikation hatte keinen Zugriff, der zu entziehen wäre.",
        "account.sign_out": "Abmelden",
        "error.access_denied": "Zugriff verweigert",
        "error.access_denied.help": "Ihr Konto darf diese Konsole nicht verwenden.",
        "error.console_sign_in": "Die Anmeldung wurde nicht abgeschlossen",
        "error.console_sign_in.help": "Bitte beginnen Sie erneut bei der Adresse der Konsole.",
        # denied.html
        "denied.title": "Kein Zugriff",
        "denied.heading": "Sie haben keinen Zugriff auf {client}",
        "denied.help": (
            "Ihr Konto ist für diese Anwendung nicht freigeschaltet. "
            "Die Administration von {tenant} muss Ihnen zuerst eine Rolle dafür zuweisen."
        ),
        "denied.continue": "Zurück zur Anwendung",
        # error.html
        "error.status": "Fehler {status}",
        "error.invalid_request": "Die Anfrage kann nicht bearbeitet werden",
        "error.invalid_request.help": (
            "Der Link, über den Sie hierher gekommen sind, ist unvollständig oder fehlerhaft. "
            "Bitte wenden Sie sich an den Anbieter der Anwendung, die Sie nutzen wollten."
        ),
        "error.unknown_client": "Unbekannte Anwendung",
        "error.unknown_client.help": (
            "Der Link, über den Sie hierher gekommen sind, nennt eine Anwendung, die hier nicht "
            "registriert ist. Bitte wenden Sie sich an den Anbieter der Anwendung, die Sie nutzen wollten."
        ),
        "error.redirect_uri": "Die Rücksprungadresse ist nicht registriert",
        "error.redirect_uri.help": (
            "Der Link, über den Sie hierher gekommen sind, verlangt die Rückkehr zu einer Adresse, "
            "die für diese Anwendung nicht registriert ist; Sie werden deshalb nicht dorthin geleitet. "
            "Bitte wenden Sie sich an den Anbieter der Anwendung, die Sie nutzen wollten."
        ),
        "error.expired": "Diese Seite ist abgelaufen",
        "error.expired.help": (
            "Die Anmeldung hat zu lange gedauert oder das Formular wurde zweimal gesendet. "
            "Bitte öffnen Sie die Anwendung erneut und beginnen Sie von vorn."
        ),
        "error.server_error": "Etwas ist schiefgelaufen",
        "error.server_error.help": (
            "Bei uns ist ein unerwarteter Fehler aufgetreten. Bitte versuchen Sie es später erneut."
        ),
        # scope descriptions for the consent page (the caller localises them with translate())
        "scope.openid": "Sie mit Ihrem Konto anmelden",
        "scope.profile": "Ihr Name und Ihr Benutzername",
        "scope.email": "Ihre E-Mail-Adresse",
        "scope.offline_access": "Angemeldet bleiben: Zugriff auch in Ihrer Abwesenheit",
        "scope.address": "Ihre Postanschrift",
        "scope.phone": "Ihre Telefonnummer",
    },
}

# the title keys error.html accepts (each has its ".help")
ERROR_TITLE_KEYS: tuple[str, ...] = (
    "error.invalid_request",
    "error.unknown_client",
    "error.redirect_uri",
    "error.expired",
    "error.server_error",
    "error.access_denied",
    "error.console_sign_in",
)
