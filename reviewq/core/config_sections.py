"""`.reviewq.toml`'s `[critic]`, `[log]` and `[metrics]` sections (`reviewq.core.config`'s
`CriticSettings`, `ModelCriticSettings`, `LogSettings`, `MetricsSettings`, their parsers and
`CRITICS`, `DEFAULT_NEVER_SEND`), made when first asked for: a scan reads none of them, and
their dataclasses are milliseconds of every command's start. Import them from
`reviewq.core.config` (its module `__getattr__` loads this file); their `__module__` is
`reviewq.core.config`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reviewq.core.model import AUTHOR_FAMILIES
from reviewq.core.tomlcheck import (
    ConfigError,
    as_string,
    as_table,
    check_keys,
    optional_string,
)

# -- [critic] ---------------------------------------------------------------------------------

CRITICS: tuple[str, ...] = ("static", "anthropic", "openai")
#: Paths never sent to a model critic, whatever the configuration adds.
DEFAULT_NEVER_SEND: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.kdbx",
    "id_rsa*",
    "id_ed25519*",
    "id_ecdsa*",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "**/secrets/**",
    "*.tfstate",
    "*.tfvars",
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESPONSE_FORMATS = ("json_schema", "json_object", "none")


@dataclass(frozen=True)
class ModelCriticSettings:
    """One model critic's endpoint. The key itself never lives here: only the variable's name."""

    __module__ = "reviewq.core.config"

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    #: The model family when its name does not say (a local server's "my-model").
    family: str | None = None
    #: How the OpenAI-compatible critic asks for JSON (local servers differ).
    response_format: str = "json_schema"


@dataclass(frozen=True)
class CriticSettings:
    __module__ = "reviewq.core.config"

    default: str = "static"
    timeout: float = 120.0
    connect_timeout: float = 10.0
    retries: int = 3
    budget_tokens: int = 24000
    max_calls: int = 2
    max_output_tokens: int = 4096
    never_send: tuple[str, ...] = DEFAULT_NEVER_SEND
    anthropic: ModelCriticSettings = field(default_factory=ModelCriticSettings)
    openai: ModelCriticSettings = field(default_factory=ModelCriticSettings)

    def model_settings(self, critic: str) -> ModelCriticSettings:
        return self.anthropic if critic == "anthropic" else self.openai


def _number(where: str, value: Any, *, low: float, high: float, integer: bool = False) -> Any:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{where}: expected {kind} from {low:g} to {high:g}, got {value!r}")
    return value


def _model_critic(where: str, value: Any) -> ModelCriticSettings:
    table = as_table(where, value)
    if "api_key" in table or "key" in table:
        raise ConfigError(
            f"{where}.api_key: API keys never go in the repository's config; export the key in "
            "the environment and name the variable with api_key_env"
        )
    check_keys(where, table, {"model", "base_url", "api_key_env", "family", "response_format"})
    env = optional_string(where, table, "api_key_env")
    if env is not None and not _ENV_NAME.match(env):
        raise ConfigError(f"{where}.api_key_env: {env!r} is not an environment variable name")
    family = optional_string(where, table, "family")
    if family is not None and family not in AUTHOR_FAMILIES:
        raise ConfigError(
            f"{where}.family: {family!r} is not a family ({', '.join(AUTHOR_FAMILIES)})"
        )
    base_url = optional_string(where, table, "base_url")
    if base_url is not None and not re.match(r"^https?://", base_url):
        raise ConfigError(f"{where}.base_url: {base_url!r} must start with http:// or https://")
    response_format = table.get("response_format", "json_schema")
    if response_format not in _RESPONSE_FORMATS:
        raise ConfigError(
            f"{where}.response_format: {response_format!r} must be one of "
            f"{', '.join(_RESPONSE_FORMATS)}"
        )
    return ModelCriticSettings(
        model=optional_string(where, table, "model"),
        base_url=base_url,
        api_key_env=env,
        family=family,
        response_format=response_format,
    )


def parse_critic(value: Any) -> CriticSettings:
    """`[critic]`: the default critic, timeouts, budget, never-send globs, model endpoints."""
    table = as_table("critic", value)
    check_keys(
        "critic",
        table,
        {
            "default",
            "timeout",
            "connect_timeout",
            "retries",
            "budget_tokens",
            "max_calls",
            "max_output_tokens",
            "never_send",
            "anthropic",
            "openai",
        },
    )
    default = table.get("default", "static")
    if default not in CRITICS:
        raise ConfigError(f"critic.default: {default!r} must be one of {', '.join(CRITICS)}")
    never_send = table.get("never_send", [])
    if not isinstance(never_send, list) or not all(
        isinstance(g, str) and g.strip() for g in never_send
    ):
        raise ConfigError("critic.never_send: expected an array of glob strings")
    negated = [g for g in never_send if g.strip().startswith("!")]
    if negated:
        # gitignore's "!" re-includes: here it would quietly send what an earlier glob keeps back
        raise ConfigError(
            f"critic.never_send: {negated[0]!r}: a glob cannot start with '!' (nothing is "
            "taken back out of never_send; list only what must not be sent)"
        )
    if never_send:
        # Imported only when a repository lists its own globs (every command reads the config).
        import pathspec

        for glob in never_send:
            try:
                pathspec.PathSpec.from_lines("gitignore", [glob.strip()])
            except ValueError as exc:
                raise ConfigError(
                    f"critic.never_send: {glob!r} is not a valid glob ({exc})"
                ) from None
    base = CriticSettings()
    return CriticSettings(
        default=default,
        timeout=float(
            _number("critic.timeout", table.get("timeout", base.timeout), low=1, high=3600)
        ),
        connect_timeout=float(
            _number(
                "critic.connect_timeout",
                table.get("connect_timeout", base.connect_timeout),
                low=0.5,
                high=300,
            )
        ),
        retries=_number(
            "critic.retries", table.get("retries", base.retries), low=0, high=10, integer=True
        ),
        budget_tokens=_number(
            "critic.budget_tokens",
            table.get("budget_tokens", base.budget_tokens),
            low=2000,
            high=2_000_000,
            integer=True,
        ),
        max_calls=_number(
            "critic.max_calls", table.get("max_calls", base.max_calls), low=1, high=20, integer=True
        ),
        max_output_tokens=_number(
            "critic.max_output_tokens",
            table.get("max_output_tokens", base.max_output_tokens),
            low=256,
            high=64000,
            integer=True,
        ),
        # The configured globs extend the built-in list: a repository can add, never remove.
        never_send=(*DEFAULT_NEVER_SEND, *(g.strip() for g in never_send)),
        anthropic=_model_critic("critic.anthropic", table.get("anthropic", {})),
        openai=_model_critic("critic.openai", table.get("openai", {})),
    )


@dataclass(frozen=True)
class LogSettings:
    """`[log]`: how verdict signatures are checked (reviewq.store.signing)."""

    __module__ = "reviewq.core.config"

    #: Allowed-signers file committed in the repository (path from its top); git's
    #: `gpg.ssh.allowedSignersFile` wins when set.
    allowed_signers: str | None = None
    #: `log verify` fails on unsigned records (and on signatures it cannot check).
    require_signed: bool = False


def parse_log_section(value: Any) -> LogSettings:
    table = as_table("log", value)
    check_keys("log", table, {"allowed_signers", "require_signed"})
    require = table.get("require_signed", False)
    if not isinstance(require, bool):
        raise ConfigError(f"log.require_signed: expected true or false, got {require!r}")
    return LogSettings(
        allowed_signers=optional_string("log", table, "allowed_signers"), require_signed=require
    )


@dataclass(frozen=True)
class MetricsSettings:
    """`[metrics]`: when an approval counts as a possible rubber stamp, and the zone that
    draws the line between days (docs/metrics.md). The defaults are the Cisco/SmartBear ones."""

    __module__ = "reviewq.core.config"

    rubber_stamp_lines_per_hour: float = 500.0
    rubber_stamp_min_seconds: float = 30.0
    rubber_stamp_min_hunk_share: float = 0.5
    #: "record" (each verdict's own offset), "local", "UTC" or an IANA zone name.
    timezone: str = "record"


def parse_metrics(value: Any) -> MetricsSettings:
    table = as_table("metrics", value)
    defaults = MetricsSettings()
    check_keys("metrics", table, set(MetricsSettings.__dataclass_fields__))
    numbers = {}
    for key in ("rubber_stamp_lines_per_hour", "rubber_stamp_min_seconds"):
        raw = table.get(key, getattr(defaults, key))
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
            raise ConfigError(f"metrics.{key}: expected a non-negative number, got {raw!r}")
        numbers[key] = float(raw)
    share = table.get("rubber_stamp_min_hunk_share", defaults.rubber_stamp_min_hunk_share)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ConfigError(
            f"metrics.rubber_stamp_min_hunk_share: expected a number from 0 to 1, got {share!r}"
        )
    zone = as_string("metrics.timezone", table.get("timezone", defaults.timezone))
    return MetricsSettings(rubber_stamp_min_hunk_share=float(share), timezone=zone, **numbers)
