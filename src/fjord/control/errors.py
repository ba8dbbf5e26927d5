"""MSK's error shapes: an HTTP status, the exception name botocore maps to a class, a message.

boto3 reads the exception name from the `x-amzn-ErrorType` header (rest-json protocol), so a
client sees `client.exceptions.BadRequestException` exactly as against MSK.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    kind = "InternalServerErrorException"

    def __init__(self, message: str, invalid_parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.invalid_parameter = invalid_parameter

    def body(self) -> dict[str, str]:
        out = {"message": self.message}
        if self.invalid_parameter:
            out["invalidParameter"] = self.invalid_parameter
        return out


class BadRequest(ApiError):
    status = 400
    kind = "BadRequestException"


class Unauthorized(ApiError):
    status = 401
    kind = "UnauthorizedException"


class NotFound(ApiError):
    status = 404
    kind = "NotFoundException"


class Conflict(ApiError):
    status = 409
    kind = "ConflictException"
