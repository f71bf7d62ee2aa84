"""`Authorization: Bearer <key>` for partner systems."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from adplatform.models import ApiKey
from adplatform.selectors import get_active_api_key
from adplatform.services import API_KEY_PREFIX, hash_api_key, touch_api_key


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
        try:
            raw_key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        if not raw_key.startswith(API_KEY_PREFIX):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        api_key = get_active_api_key(key_hash=hash_api_key(raw_key))
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        touch_api_key(api_key=api_key)
        # The key acts for its organization, not for a person.
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "adplatform.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An organization API key."}
