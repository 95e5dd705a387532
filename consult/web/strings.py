"""The web form's own words (buttons, explanations, error messages) in English and French.

The questionnaire's texts come from the questionnaire; these are the form's.
A language without an entry falls back to English.
"""

from __future__ import annotations

from typing import Any

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "language_name": "English",
        "skip": "Skip to the questions",
        "code_title": "Enter your personal code",
        "code_intro": "Your invitation gives you a personal code such as K7QM-4XRT-9. "
                      "Enter it to start, or to continue where you left off on any device.",
        "code_label": "Personal code",
        "code_hint": "Nine letters and digits; dashes and spaces do not matter.",
        "start": "Continue",
        "code_empty": "Please type your code.",
        "malformed_title": "This is not a code",
        "malformed_text": "This is not a code of this consultation: codes look like "
                          "XXXX-XXXX-X, nine letters and digits such as K7QM-4XRT-9 (never O, I, "
                          "0 or 1). Please copy it again from your invitation.",
        "invalid_title": "This code is not valid",
        "invalid_text": "The code has a typing mistake (its last character does not match). "
                        "Please copy it again from your invitation.",
        "unknown_title": "This code is not known",
        "unknown_text": "No invitation was issued with this code. Please check your invitation, "
                        "or ask the person who passed the link on to you.",
        "completed_title": "This questionnaire was already completed",
        "completed_text": "A response has already been submitted with this code, and each code "
                          "can be used once. Thank you for taking part.",
        "closed_title": "This round of the consultation is closed",
        "closed_text": "The consultation no longer accepts responses with this code. "
                       "Thank you for your interest.",
        "closed_draft_title": "This round of the consultation has closed",
        "closed_draft_text": "The consultation closed while you were answering, so the answers "
                             "on the page you just sent could not be saved. The pages you saved "
                             "before are kept. Thank you for taking part.",
        "rate_title": "Too many attempts",
        "rate_text": "Too many codes that do not work were entered from your network. "
                     "Please wait a few minutes and try again.",
        "error_title": "Something went wrong",
        "error_text": "The page could not be shown. Your saved answers are safe; please try "
                      "again in a moment.",
        "forbidden_title": "This form has expired",
        "forbidden_text": "For your security the form could not be accepted. Please go back, "
                          "reload the page and submit it again.",
        "not_found_title": "Page not found",
        "not_found_text": "There is no page at this address.",
        "too_large_title": "Too much text",
        "too_large_text": "The form sent was too large to accept.",
        "back_to_start": "Go to the code entry page",
        "consent_title": "Before you start",
        "consent_text": "Taking part is voluntary. Your answers are saved page by page so that "
                        "you can stop and continue later with the same code. They are "
                        "confidential and will only be reported in aggregate form.",
        "consent_label": "I agree to take part in this consultation",
        "consent_required": "Please tick the box to agree before you start.",
        "page_of": "Page {n} of {total}",
        "next": "Save and continue",
        "finish": "Submit my answers",
        "previous": "Previous page",
        "error_prefix": "Error: ",
        "errors_title": "There is a problem on this page",
        "required": "Please answer this question.",
        "bad_choice": "Please choose one of the options given.",
        "one_answer": "Please give only one answer.",
        "exclusive": "This option cannot be combined with others.",
        "too_long": "Please shorten your answer to at most {limit} characters.",
        "bad_country": "This country was not recognised; please write its name in full "
                       "(for example: Canada).",
        "not_number": "Please enter a number.",
        "not_integer": "Please enter a whole number.",
        "out_of_range": "Please enter a number from {low} to {high}.",
        "specify": "Please specify your other answer.",
        "other_label": "Please specify",
        "optional": "(optional)",
        "thanks_title": "Thank you",
        "thanks_text": "Your answers have been submitted.",
        "links_title": "Pass the consultation on",
        "links_text": "Please forward these personal links to colleagues who could answer; "
                      "each link can be used once.",
        "nominate_title": "Or nominate a colleague",
        "nominate_text": "We will invite them ourselves, after checking.",
        "nominee_name": "Name",
        "nominee_email": "E-mail address",
        "nominee_organisation": "Organisation (optional)",
        "nominate": "Nominate",
        "nominated": "Thank you: your nomination was recorded.",
        "nominee_name_missing": "Please enter your colleague's name.",
        "nominee_email_missing": "Please enter your colleague's e-mail address.",
        "nominee_email_invalid": "Please enter an e-mail address in the form name@example.org.",
    },
    "fr": {
        "language_name": "Français",
        "skip": "Aller aux questions",
        "code_title": "Saisissez votre code personnel",
        "code_intro": "Votre invitation contient un code personnel, p. ex. K7QM-4XRT-9. "
                      "Saisissez-le pour commencer ou pour reprendre là où vous vous êtes "
                      "arrêté, sur n’importe quel appareil.",
        "code_label": "Code personnel",
        "code_hint": "Neuf lettres et chiffres; les tirets et les espaces sont ignorés.",
        "start": "Continuer",
        "code_empty": "Veuillez saisir votre code.",
        "malformed_title": "Ce n’est pas un code",
        "malformed_text": "Ce n’est pas un code de cette consultation : les codes ont la forme "
                          "XXXX-XXXX-X, neuf lettres et chiffres comme K7QM-4XRT-9 (jamais O, I, "
                          "0 ni 1). Veuillez le recopier depuis votre invitation.",
        "invalid_title": "Ce code n’est pas valide",
        "invalid_text": "Le code contient une faute de frappe (son dernier caractère ne "
                        "correspond pas). Veuillez le recopier depuis votre invitation.",
        "unknown_title": "Ce code est inconnu",
        "unknown_text": "Aucune invitation n’a été émise avec ce code. Veuillez vérifier votre "
                        "invitation ou vous adresser à la personne qui vous a transmis le lien.",
        "completed_title": "Ce questionnaire a déjà été rempli",
        "completed_text": "Une réponse a déjà été envoyée avec ce code, et chaque code ne sert "
                          "qu’une fois. Merci de votre participation.",
        "closed_title": "Cette vague de la consultation est close",
        "closed_text": "La consultation n’accepte plus de réponses avec ce code. Merci de votre "
                       "intérêt.",
        "closed_draft_title": "Cette vague de la consultation est close",
        "closed_draft_text": "La consultation a été close pendant que vous répondiez : les "
                             "réponses de la page que vous venez d’envoyer n’ont pas pu être "
                             "enregistrées. Les pages enregistrées auparavant sont conservées. "
                             "Merci de votre participation.",
        "rate_title": "Trop de tentatives",
        "rate_text": "Trop de codes erronés ont été saisis depuis votre réseau. Veuillez "
                     "patienter quelques minutes, puis réessayer.",
        "error_title": "Une erreur s’est produite",
        "error_text": "La page n’a pas pu être affichée. Vos réponses enregistrées sont en "
                      "sécurité; veuillez réessayer dans un moment.",
        "forbidden_title": "Ce formulaire a expiré",
        "forbidden_text": "Pour votre sécurité, le formulaire n’a pas pu être accepté. Veuillez "
                          "revenir en arrière, recharger la page et l’envoyer de nouveau.",
        "not_found_title": "Page introuvable",
        "not_found_text": "Il n’y a pas de page à cette adresse.",
        "too_large_title": "Texte trop long",
        "too_large_text": "Le formulaire envoyé était trop volumineux.",
        "back_to_start": "Aller à la page de saisie du code",
        "consent_title": "Avant de commencer",
        "consent_text": "Votre participation est volontaire. Vos réponses sont enregistrées à "
                        "chaque page : vous pouvez vous arrêter et reprendre plus tard avec le "
                        "même code. Elles sont confidentielles et ne seront présentées que sous "
                        "forme agrégée.",
        "consent_label": "J’accepte de participer à cette consultation",
        "consent_required": "Veuillez cocher la case pour donner votre accord.",
        "page_of": "Page {n} sur {total}",
        "next": "Enregistrer et continuer",
        "finish": "Envoyer mes réponses",
        "previous": "Page précédente",
        "error_prefix": "Erreur : ",
        "errors_title": "Cette page comporte une erreur",
        "required": "Veuillez répondre à cette question.",
        "bad_choice": "Veuillez choisir l’une des options proposées.",
        "one_answer": "Veuillez ne donner qu’une seule réponse.",
        "exclusive": "Cette option ne peut pas être combinée avec d’autres.",
        "too_long": "Veuillez raccourcir votre réponse à {limit} caractères au plus.",
        "bad_country": "Ce pays n’a pas été reconnu; veuillez écrire son nom en entier "
                       "(par exemple : Canada).",
        "not_number": "Veuillez saisir un nombre.",
        "not_integer": "Veuillez saisir un nombre entier.",
        "out_of_range": "Veuillez saisir un nombre de {low} à {high}.",
        "specify": "Veuillez préciser votre autre réponse.",
        "other_label": "Veuillez préciser",
        "optional": "(facultatif)",
        "thanks_title": "Merci",
        "thanks_text": "Vos réponses ont été envoyées.",
        "links_title": "Faites circuler la consultation",
        "links_text": "Veuillez transmettre ces liens personnels à des collègues qui pourraient "
                      "répondre; chaque lien ne sert qu’une fois.",
        "nominate_title": "Ou proposez un collègue",
        "nominate_text": "Nous l’inviterons nous-mêmes, après vérification.",
        "nominee_name": "Nom",
        "nominee_email": "Adresse électronique",
        "nominee_organisation": "Organisation (facultatif)",
        "nominate": "Proposer",
        "nominated": "Merci : votre proposition a été enregistrée.",
        "nominee_name_missing": "Veuillez indiquer le nom de votre collègue.",
        "nominee_email_missing": "Veuillez indiquer l’adresse électronique de votre collègue.",
        "nominee_email_invalid": "Veuillez saisir une adresse électronique de la forme "
                                 "nom@example.org.",
    },
}


def message(key: str, language: str, **values: Any) -> str:
    """The form's text ``key`` in ``language`` (English when missing), with ``values`` filled in."""
    text = STRINGS.get(language, {}).get(key) or STRINGS["en"][key]
    return text.format(**values) if values else text


def words(language: str) -> dict[str, str]:
    """Every form text in ``language``, for templates."""
    return {**STRINGS["en"], **STRINGS.get(language, {})}
