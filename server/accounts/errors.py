"""Errors of the accounts package."""

from server.errors import Conflict, Forbidden, NotFound, ValidationFailed


class BadAgencyCode(ValidationFailed):
    code = "agency.bad_code"


class UnknownAgency(NotFound):
    code = "agency.unknown"


class DuplicateAgency(Conflict):
    code = "agency.duplicate"


class ImportRejected(ValidationFailed):
    """An import file has a bad row; ``extra['row']`` gives its number (1 = first data row)."""

    code = "agency.import_rejected"


class UnknownUser(NotFound):
    code = "user.unknown"


class DuplicateUser(Conflict):
    code = "user.duplicate"


class BadRole(ValidationFailed):
    code = "user.bad_role"


class RestructureRejected(ValidationFailed):
    """A restructuring file has a bad row; ``extra['row']`` gives its number (1 = first data row)."""

    code = "agency.restructure_rejected"


class WrongPassword(Forbidden):
    """The current password given to change one's own password is wrong."""

    code = "user.wrong_password"


class CannotDisableSelf(Conflict):
    code = "user.cannot_disable_self"
