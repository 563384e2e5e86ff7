"""A small but real OpenID Connect provider for the SSO tests, built on authlib's server side.

It serves discovery, JWKS, authorize and token endpoints over HTTP on 127.0.0.1 (werkzeug in a
thread). The authorization code grant requires PKCE (S256) and issues RS256 ID tokens carrying
the nonce. The "browser" signs in as :attr:`OidcProvider.user` without a login form. Two knobs
let a test make the provider misbehave: ``nonce_override`` (an ID token for another login) and
``sign_with_foreign_key`` (an ID token signed by a key not in the JWKS).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """The one registered relying party (Contango)."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in {"openid", "email", "profile"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    """An issued authorization code and what it was issued for."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return time.time() > self.auth_time + 300


class OidcProvider:
    """The provider: start it, point Contango at :attr:`issuer`, stop it."""

    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client = Client(client_id, client_secret, redirect_uri)
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1"}, private=True)
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "test-1"}, private=True)
        self.user: dict[str, Any] = {"sub": "alice-1", "email": "alice@corp.example"}
        self.nonce_override: str | None = None
        self.sign_with_foreign_key = False
        self.codes: dict[str, Code] = {}
        self.app = self._build_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> OidcProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def _grant_classes(self) -> tuple[type[grants.AuthorizationCodeGrant], OpenIDCode]:
        provider = self

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]  # noqa: RUF012

            def save_authorization_code(self, code: str, request: Any) -> None:
                data = request.payload.data
                provider.codes[code] = Code(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.payload.scope,
                    user=dict(request.user),
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
                return authorization_code.user

        class OpenID(OpenIDCode):  # type: ignore[misc]
            def exists_nonce(self, nonce: str, request: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.foreign_key if provider.sign_with_foreign_key else provider.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
                claims = dict(super().get_authorization_code_claims(authorization_code))
                if provider.nonce_override is not None:
                    claims["nonce"] = provider.nonce_override
                return claims

            def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
                return UserInfo(
                    sub=user["sub"], email=user["email"], email_verified=True, name="Alice"
                )

        return CodeGrant, OpenID(require_nonce=True)

    def _save_token(self, token: dict[str, Any], request: Any) -> None:
        """Access tokens are not used afterwards (no userinfo calls); nothing to keep."""

    def _build_app(self) -> Flask:
        app = Flask("oidc-test-provider")
        server = AuthorizationServer(
            app,
            query_client=lambda cid: self.client if cid == self.client.client_id else None,
            save_token=self._save_token,
        )
        grant, openid = self._grant_classes()
        server.register_grant(grant, [CodeChallenge(required=True), openid])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                jwks_uri=f"{self.issuer}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
            )

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize() -> Any:
            try:
                grant = server.get_consent_grant(end_user=self.user)
            except OAuth2Error as error:
                return jsonify(error=error.error, error_description=error.description), 400
            return server.create_authorization_response(grant=grant, grant_user=self.user)

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        return app
