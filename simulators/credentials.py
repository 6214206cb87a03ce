"""Default simulator credentials.

These are the only values the simulators accept unless a test passes its own to
``create_app(..., credentials=...)``. Wrong values get each system's real error:
CRM ``errorCode 10006``, U8 errcode ``"40001"``, finance HTTP 401 ``code 40100``,
WeCom ``errcode 40001`` (``40013`` for a wrong corpid).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrmCredentials:
    app_id: str = "FSAID_SIM000001"
    app_secret: str = "sim-crm-app-secret"
    permanent_code: str = "sim-crm-permanent-code"
    # corpId comes back from the token call; currentOpenUserId is the API user of later calls.
    corp_id: str = "FSCID_SIM000001"
    current_open_user_id: str = "FSUID_SIM000001"


@dataclass(frozen=True)
class U8Credentials:
    from_account: str = "sim_u8_caller"
    to_account: str = "sim_u8_provider"
    app_key: str = "opa_sim_u8_app_key"
    app_secret: str = "sim-u8-app-secret"


@dataclass(frozen=True)
class FinanceCredentials:
    client_id: str = "sim-finance-client"
    client_secret: str = "sim-finance-secret"


@dataclass(frozen=True)
class WecomCredentials:
    corpid: str = "wwsim0000000001"
    corpsecret: str = "sim-wecom-corp-secret"


CRM = CrmCredentials()
U8 = U8Credentials()
FINANCE = FinanceCredentials()
WECOM = WecomCredentials()
