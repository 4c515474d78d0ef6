"""The gateway's sentences: what support reads when Keycloak fails."""

KEYCLOAK_NOT_CONFIGURED = (
    "Keycloak is not configured here (set KEYCLOAK_SERVER_URL, KEYCLOAK_REALM, "
    "KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET), so its side could not be checked."
)
KEYCLOAK_UNREACHABLE = "Keycloak at {url} did not answer when asked to {what} ({why})."
KEYCLOAK_BAD_CREDENTIALS = (
    "Keycloak refused the credentials of the client {client_id} in the realm {realm} "
    "when asked to {what}: check KEYCLOAK_CLIENT_ID, KEYCLOAK_CLIENT_SECRET and KEYCLOAK_REALM."
)
KEYCLOAK_FORBIDDEN = (
    "Keycloak refused to {what}: the service account of {client_id} lacks a realm-management "
    "role (it needs view-users, manage-users and manage-realm)."
)
KEYCLOAK_FAILED = "Keycloak answered HTTP {status} when asked to {what}."
KEYCLOAK_MALFORMED = (
    "Keycloak at {url} gave an answer that is not what it should be when asked to {what} ({why})."
)

# The `why` of KEYCLOAK_UNREACHABLE.
WHY_DEADLINE = "no answer within {timeout:g} s"
WHY_REFUSED = "connection refused or host unreachable"
WHY_BROKEN = "the connection broke off"
WHY_TLS = "the TLS handshake failed: check its certificate"
WHY_BAD_URL = "KEYCLOAK_SERVER_URL is not a usable URL"
# The `why` of KEYCLOAK_MALFORMED.
WHY_NOT_JSON = "not JSON but {content_type}"
WHY_TOO_BIG = "more than {mb} MB"
WHY_UNEXPECTED_STATUS = "HTTP {status} where {expected} was expected"
WHY_NOT_KEYCLOAK_404 = "HTTP 404 in a body that is not Keycloak's ({content_type})"
WHY_WRONG_TYPE = "{field} is {got} where {expected} was expected"
WHY_REPEATED_PAGE = "the list of organizations repeats itself instead of moving on"
WHY_REPEATED_MEMBERS = "the list of the organization's members repeats itself instead of moving on"
