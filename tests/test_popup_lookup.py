"""A caller-ID lookup that could not ask the CRM is not "not in the CRM"."""

from __future__ import annotations

import asyncio
import logging

import pytest
from ports import free_port

from smdr.crm.client import GenericClient
from smdr.crm.popup import PopupAssistant
from smdr.crm.settings import CrmSettings, PopupSettings
from smdr.model import CallEvent


def test_a_crm_that_is_down_is_said_so(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/x/PBX/Generic"  # a port nothing listens on: the CRM is down
    caplog.set_level(logging.INFO, logger="smdr.crm.popup")

    async def ring() -> None:
        async with GenericClient(CrmSettings(url=url, secretkey="lookup-test-secret", timeout=2)) as client:
            assistant = PopupAssistant(client, PopupSettings(lookup=True), opener=lambda url: None)
            event = CallEvent(call_id="c1", direction="inbound", event="ringing", agent="101", phone="09125558899")
            assert await assistant.on_ringing(event) is None

    asyncio.run(ring())
    assert "the CRM could not be asked who it is" in caplog.text
    assert "is not in the CRM" not in caplog.text
