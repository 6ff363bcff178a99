"""Synthetic secrets in the token shapes public rule sets cover (gitleaks' config/gitleaks.toml).

Each entry is (provider, kind, sample): `prefixed` shapes carry a distinctive prefix or layout and
must be caught anywhere, even in prose with no variable name; `keyword` shapes (gitleaks' rules
that need the provider's name near the value) must be caught when they sit in an assignment
whose name says what they are. The samples are random text made here in each shape (seeded, so
a failure names the same sample every run); none is a real credential.
"""

from __future__ import annotations

import random
import string

LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
DIGITS = string.digits
ALNUM = LOWER + UPPER + DIGITS
LOWNUM = LOWER + DIGITS
UPNUM = UPPER + DIGITS
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def shapes(seed: int = 150) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)

    def r(alphabet: str, n: int) -> str:
        return _r(rng, alphabet, n)

    # Prefixes are written in two pieces so this file does not itself look like a leak.
    prefixed = [
        ("1password", f"A3-{r(UPNUM, 6)}-{r(UPNUM, 11)}-{r(UPNUM, 5)}-{r(UPNUM, 5)}-{r(UPNUM, 5)}"),
        ("adobe-client-secret", "p8" + "e-" + r(LOWNUM, 32)),
        ("age", "AGE-SECRET" + "-KEY-1" + r("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)),
        ("alibaba", "LT" + "AI" + r(LOWNUM, 20)),
        ("anthropic", "sk-" + "ant-api03-" + r(URLSAFE, 93) + "AA"),
        ("anthropic-admin", "sk-" + "ant-admin01-" + r(URLSAFE, 93) + "AA"),
        ("artifactory", "AK" + "Cp" + r(ALNUM, 69)),
        ("atlassian", "ATA" + "TT3" + r(URLSAFE, 186)),
        ("aws", "AK" + "IA" + r(UPPER + "234567", 16)),
        ("aws-sts", "AS" + "IA" + r(UPPER + "234567", 16)),
        ("azure-ad", r(ALNUM, 3) + "8Q" + "~" + r(ALNUM + "_~.-", 34)),
        ("clickhouse", "4b" + "1d" + r(ALNUM, 38)),
        ("clojars", "CLOJARS" + "_" + r(LOWNUM, 60)),
        ("cloudflare-origin-ca", "v1.0" + "-" + r(HEX, 24) + "-" + r(HEX, 146)),
        ("databricks", "da" + "pi" + r(HEX, 32)),
        ("digitalocean", "do" + "p_v1_" + r(HEX, 64)),
        ("dockerhub", "dc" + "kr_pat_" + r(URLSAFE, 27)),
        ("doppler", "dp" + ".pt." + r(LOWNUM, 43)),
        ("duffel", "duffel" + "_test_" + r(URLSAFE, 43)),
        ("dynatrace", "dt" + "0c01." + r(UPNUM, 24) + "." + r(UPNUM, 64)),
        ("easypost", "EZ" + "AK" + r(ALNUM, 54)),
        ("facebook", "EA" + "AC" + r(ALNUM, 60)),
        ("flutterwave", "FLWSECK" + "_TEST-" + r(HEX, 32) + "-X"),
        ("frameio", "fio" + "-u-" + r(URLSAFE, 64)),
        ("github-pat", "gh" + "p_" + r(ALNUM, 36)),
        ("github-oauth", "gh" + "o_" + r(ALNUM, 36)),
        ("github-app", "gh" + "s_" + r(ALNUM, 36)),
        ("github-fine-grained", "github" + "_pat_" + r(ALNUM + "_", 82)),
        ("gitlab-pat", "gl" + "pat-" + r(URLSAFE, 20)),
        ("gitlab-runner", "gl" + "rt-" + r(URLSAFE, 20)),
        ("gitlab-deploy", "gl" + "dt-" + r(URLSAFE, 20)),
        ("google-api", "AI" + "za" + r(URLSAFE, 35)),
        ("google-oauth-access", "ya" + "29." + r(URLSAFE, 60)),
        ("grafana-cloud", "gl" + "c_" + r(ALNUM, 40)),
        ("grafana-service-account", "gl" + "sa_" + r(ALNUM, 32) + "_" + r(HEX, 8)),
        ("harness", "pat" + "." + r(URLSAFE, 22) + "." + r(HEX, 24) + "." + r(LOWNUM, 20)),
        ("hashicorp-tf", r(LOWNUM, 14) + ".atlas" + "v1." + r(URLSAFE, 64)),
        ("heroku-v2", "HR" + "KU-AA" + r(URLSAFE, 58)),
        ("huggingface", "h" + "f_" + r(UPPER + LOWER, 34)),
        ("infracost", "ic" + "o-" + r(ALNUM, 32)),
        ("linear", "lin" + "_api_" + r(LOWNUM, 40)),
        ("mailchimp", r(HEX, 32) + "-us" + "12"),
        ("mailgun", "ke" + "y-" + r(HEX, 32)),
        ("mapbox", "p" + "k." + r(LOWNUM, 60) + "." + r(LOWNUM, 22)),
        ("newrelic-user", "NR" + "AK-" + r(UPNUM, 27)),
        ("notion", "nt" + "n_" + r(DIGITS, 11) + r(ALNUM, 35)),
        ("npm", "np" + "m_" + r(ALNUM, 36)),
        ("nuget", "oy" + "2" + r(LOWNUM, 43)),
        ("octopus", "AP" + "I-" + r(UPNUM, 26)),
        ("openai", "sk-" + "proj-" + r(URLSAFE, 74) + "T3Blbk" + "FJ" + r(URLSAFE, 74)),
        ("openshift", "sha" + "256~" + r(URLSAFE, 43)),
        ("perplexity", "pp" + "lx-" + r(ALNUM, 48)),
        ("planetscale", "pscale" + "_tkn_" + r(URLSAFE, 43)),
        ("postman", "PM" + "AK-" + r(HEX, 24) + "-" + r(HEX, 34)),
        ("prefect", "pn" + "u_" + r(ALNUM, 36)),
        ("pulumi", "pu" + "l-" + r(HEX, 40)),
        ("pypi", "pypi" + "-AgEIcHlwaS5vcmc" + r(URLSAFE, 60)),
        ("readme", "rd" + "me_" + r(LOWNUM, 70)),
        ("rubygems", "rubygems" + "_" + r(HEX, 48)),
        ("scalingo", "tk" + "-us-" + r(URLSAFE, 48)),
        ("sendgrid", "S" + "G." + r(URLSAFE, 22) + "." + r(URLSAFE, 43)),
        ("sendinblue", "xkey" + "sib-" + r(HEX, 64) + "-" + r(LOWNUM, 16)),
        ("sentry-user", "sntry" + "u_" + r(HEX, 64)),
        ("settlemint", "sm" + "_pat_" + r(ALNUM, 16)),
        ("shippo", "shippo" + "_live_" + r(HEX, 40)),
        ("shopify", "sh" + "pat_" + r(HEX, 32)),
        ("slack-bot", "xo" + "xb-" + r(DIGITS, 12) + "-" + r(DIGITS, 12) + "-" + r(ALNUM, 24)),
        ("slack-user", "xo" + "xp-" + r(DIGITS, 12) + "-" + r(DIGITS, 12) + "-" + r(ALNUM, 24)),
        ("slack-app", "xa" + "pp-1-" + r(UPNUM, 11) + "-" + r(DIGITS, 13) + "-" + r(HEX, 64)),
        (
            "slack-webhook",
            "https://hooks."
            + "slack.com/services/T"
            + r(UPNUM, 10)
            + "/B"
            + r(UPNUM, 10)
            + "/"
            + r(ALNUM, 24),
        ),
        ("square", "sq" + "0atp-" + r(URLSAFE, 22)),
        ("stripe-live", "sk" + "_live_" + r(ALNUM, 40)),
        ("stripe-restricted", "rk" + "_live_" + r(ALNUM, 40)),
        ("stripe-test", "sk" + "_test_" + r(ALNUM, 40)),
        ("telegram", r(DIGITS, 10) + ":A" + r(URLSAFE, 34)),
        ("twilio", "S" + "K" + r(HEX, 32)),
        ("typeform", "tf" + "p_" + r(URLSAFE, 59)),
        ("vault-service", "hv" + "s." + r(URLSAFE, 90)),
        ("vault-batch", "hv" + "b." + r(URLSAFE, 138)),
        ("yandex-api", "AQ" + "VN" + r(URLSAFE, 36)),
        ("jwt", "ey" + "J" + r(URLSAFE, 30) + ".ey" + "J" + r(URLSAFE, 40) + "." + r(URLSAFE, 43)),
        ("credential-url", "postgres://app:" + r(ALNUM, 16) + "@db.internal:5432/app"),
    ]
    # gitleaks rules that need the provider's name next to the value.
    keyword = [
        ("adafruit", "ADAFRUIT_IO_KEY", r(LOWNUM, 32)),
        ("airtable", "AIRTABLE_API_KEY", r(LOWNUM, 17)),
        ("algolia", "ALGOLIA_ADMIN_KEY", r(LOWNUM, 32)),
        ("asana", "ASANA_CLIENT_SECRET", r(LOWNUM, 32)),
        ("bitbucket", "BITBUCKET_CLIENT_SECRET", r(URLSAFE, 64)),
        ("cloudflare", "CLOUDFLARE_API_TOKEN", r(URLSAFE, 40)),
        ("codecov", "CODECOV_TOKEN", r(LOWNUM, 32)),
        ("cohere", "CO_API_KEY", r(ALNUM, 40)),
        ("confluent", "CONFLUENT_SECRET", r(LOWNUM, 64)),
        ("contentful", "CONTENTFUL_DELIVERY_TOKEN", r(URLSAFE, 43)),
        ("datadog", "DD_API_KEY", r(HEX, 32)),
        ("datadog-app", "datadog_app_key", r(HEX, 40)),
        ("discord", "DISCORD_BOT_TOKEN", r(HEX, 64)),
        ("dropbox", "DROPBOX_ACCESS_TOKEN", "sl." + r(URLSAFE, 135)),
        (
            "heroku",
            "HEROKU_API_KEY",
            f"{r(HEX, 8)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 12)}",
        ),
        (
            "hubspot",
            "hubspot_api_key",
            f"{r(HEX, 8)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 12)}",
        ),
        ("jfrog", "JFROG_API_KEY", r(LOWNUM, 73)),
        ("launchdarkly", "LAUNCHDARKLY_SDK_KEY", "sdk-" + r(HEX, 8) + "-" + r(HEX, 4)),
        ("mattermost", "MATTERMOST_TOKEN", r(LOWNUM, 26)),
        ("netlify", "NETLIFY_AUTH_TOKEN", r(URLSAFE, 43)),
        ("okta", "OKTA_API_TOKEN", "00" + r(URLSAFE, 40)),
        ("pagerduty", "PAGERDUTY_TOKEN", r(URLSAFE, 20)),
        ("plaid", "PLAID_SECRET", r(LOWNUM, 30)),
        ("sentry", "SENTRY_AUTH_TOKEN", r(HEX, 64)),
        ("snyk", "SNYK_TOKEN", f"{r(HEX, 8)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 12)}"),
        ("sumologic", "SUMO_ACCESS_KEY", r(ALNUM, 64)),
        ("travis", "TRAVIS_TOKEN", r(ALNUM, 22)),
        ("twitch", "TWITCH_CLIENT_SECRET", r(LOWNUM, 30)),
        ("twitter", "TWITTER_BEARER_TOKEN", "A" * 22 + r(URLSAFE, 80)),
        ("zendesk", "ZENDESK_API_TOKEN", r(ALNUM, 40)),
        ("generic-password", "db_password", r(ALNUM, 14)),
        ("generic-secret", "client_secret", r(URLSAFE, 32)),
    ]
    return [(name, "prefixed", sample) for name, sample in prefixed] + [
        (name, f"keyword:{var}", sample) for name, var, sample in keyword
    ]
