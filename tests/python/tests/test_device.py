"""The device example's generated SDK against the running device server, in both
encodings: event envelopes whose variant is a typed union, the emergency and property
topics, a warning on a call, and notifications the client publishes (handled in order,
the refused ones coming back as connection warnings that name the topic), and a state
each connection has its own document of."""

from __future__ import annotations

import asyncio
import re
from typing import AsyncIterator, Callable, TypeVar

import pytest
from device_client import (
    Backoff,
    Calibration,
    CalibrationProgress,
    Client,
    VolleyError,
    DeviceEventEnvelope,
    DeviceEventEnvelopeVariantHeartbeat,
    DeviceEventEnvelopeVariantStarted,
    EmergencyEnvelopeVariantHalted,
    ErrorCode,
    Jog,
    PropertyChange,
    VolleyWarning,
)

from conftest import server_url
from test_credentials import CuttingProxy

T = TypeVar("T")


@pytest.fixture
async def device(encoding: str) -> AsyncIterator[Client]:
    async with Client.connect(server_url("device"), encoding=encoding) as client:
        await client.device.resume(by="setup")
        await client.device.stop(by="setup")
        yield client


async def first(sub: AsyncIterator[T], wanted: Callable[[T], bool], timeout: float = 10) -> T:
    """The first value of `sub` that is `wanted`."""

    async def find() -> T:
        async for value in sub:
            if wanted(value):
                return value
        raise AssertionError("the subscription ended")

    return await asyncio.wait_for(find(), timeout)


async def until(check: Callable[[], bool], timeout: float = 10) -> None:
    async def wait() -> None:
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


async def test_events_are_envelopes_with_typed_variants(device: Client, encoding: str) -> None:
    who = f"py-{encoding}"
    async with device.topics.device_events() as events:
        await device.device.start(by=who)
        seen: list[DeviceEventEnvelope] = []

        def started(e: DeviceEventEnvelope) -> bool:
            seen.append(e)
            return isinstance(e.variant, DeviceEventEnvelopeVariantStarted) and e.variant.by == who

        await first(events, started)
        beat = await first(events, lambda e: isinstance(e.variant, DeviceEventEnvelopeVariantHeartbeat))
        assert isinstance(beat.variant, DeviceEventEnvelopeVariantHeartbeat)
        assert beat.variant.uptime_ms > 0 and beat.variant.running is True
        assert beat.index > seen[-1].index, "indexes increase"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", beat.when)
    await device.device.stop(by=who)


async def test_a_command_that_did_less_than_asked_warns_on_the_call(device: Client) -> None:
    async with device.topics.device_properties() as changes:
        await device.device.set_speed(speed=20)
        response = await device.device.set_speed(speed=150).with_metadata()
        assert response.value.speed == 100
        assert [(w.code, w.data) for w in response.warnings] == [(ErrorCode.APPLICATION, {"requested": 150, "used": 100})]
        change = await first(changes, lambda c: c.property == "speed" and c.value == 100)
        assert change == PropertyChange(property="speed", previous=20, value=100)


async def test_jogs_the_client_publishes_move_the_device_in_order(device: Client) -> None:
    start = (await device.device.status()).position
    async with device.topics.device_properties() as changes:
        for delta in range(1, 6):
            await device.topics.publish_device_jog(Jog(delta=delta))
        moves = []
        for _ in range(5):
            c = await first(changes, lambda c: c.property == "position")
            moves.append(c.value - c.previous)
        assert moves == [1, 2, 3, 4, 5]
    assert (await device.device.status()).position == start + 15


async def test_a_refused_jog_comes_back_as_a_warning_naming_the_topic(encoding: str) -> None:
    warnings: list[VolleyWarning] = []
    async with Client.connect(server_url("device"), encoding=encoding, on_warning=warnings.append) as device:
        async with device.topics.device_emergency() as emergencies:
            await device.device.emergency_stop(reason="door open", by="py")
            halted = await first(emergencies, lambda e: isinstance(e.variant, EmergencyEnvelopeVariantHalted))
            assert isinstance(halted.variant, EmergencyEnvelopeVariantHalted) and halted.variant.reason == "door open"
            before = (await device.device.status()).position
            await device.topics.publish_device_jog(Jog(delta=1))
            await until(lambda: len(warnings) > 0)
            assert warnings[0].code == ErrorCode.PERMISSION_DENIED
            assert warnings[0].message.startswith("the notification on `device.jog` failed: the device is halted (door open)")
            assert (await device.device.status()).position == before, "nothing moved"
            await device.device.resume(by="py")

            # A jog longer than the device takes, and a payload of the wrong type.
            await device.topics.publish_device_jog(Jog(delta=50))
            await device.connection._send([10, "device.jog", {"delta": "far"}])
            await until(lambda: len(warnings) > 2)
            assert [w.code for w in warnings[1:]] == [ErrorCode.INVALID_PARAMS, ErrorCode.INVALID_PARAMS]
            assert warnings[1].message == "the notification on `device.jog` failed: a jog moves at most 10 mm either way"
            assert warnings[2].data["errors"][0]["path"] == "delta"
            # The connection goes on.
            assert (await device.device.status()).halted is None


async def test_each_console_mirrors_its_own_state(device: Client, encoding: str) -> None:
    async with Client.connect(server_url("device"), encoding=encoding) as other:
        async with device.states.device_console() as mine, other.states.device_console() as theirs:
            for _ in range(3):
                await device.topics.publish_device_jog(Jog(delta=2))

            # `console_sync` answers once this console's state is written, so the
            # mirror is current when it does.
            async def synced() -> None:
                while (await device.device.console_sync()).jogs < 3:
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(synced(), 10)
            assert mine.value is not None
            assert (mine.value.jogs, mine.value.travelled) == (3, 6)
            assert theirs.value is None, "the other console jogged nothing"
            assert (await other.device.console_sync()).jogs == 0


async def test_one_consoles_moves_happen_in_the_order_sent(device: Client) -> None:
    """`device.move_by` is sequential: the first move settles longest, and only running
    in order makes each answer the position right after its own move."""
    start = (await device.device.status()).position
    after = await asyncio.gather(
        device.device.move_by(delta=1, settle_ms=40),
        device.device.move_by(delta=2, settle_ms=0),
        device.device.move_by(delta=3, settle_ms=0),
    )
    assert [p - start for p in after] == [1, 3, 6]


# ---- long-running operations ---------------------------------------------------------


async def test_calibrate_answered_at_once_is_no_operation(device: Client) -> None:
    op = device.device.calibrate(axes=0)
    assert await op.result() == Calibration(offsets=[])
    assert await op.started() is None
    assert await op.cancel() is False


async def test_calibrate_as_an_operation_id_progress_result(device: Client) -> None:
    op = device.device.calibrate(axes=3, step_ms=20)
    op_id = await op.started()
    assert op_id is not None and re.fullmatch(r"[0-9a-f]{32}", op_id)
    seen = [p async for p in op.progress()]
    assert seen == [CalibrationProgress(axis=n, of=3) for n in (1, 2, 3)]
    assert await op.result() == Calibration(offsets=[0.01, 0.02, 0.03])
    state = await op.state()
    assert state["done"] is True and state["result"] == {"offsets": [0.01, 0.02, 0.03]}


async def test_an_operation_resumed_elsewhere_and_cancelled(device: Client, encoding: str) -> None:
    op = device.device.calibrate(axes=8, step_ms=500)
    op_id = await op.started()
    assert op_id is not None
    async with Client.connect(server_url("device"), encoding=encoding) as other:
        resumed = other.operation(op_id)
        assert await resumed.cancel() is True
        with pytest.raises(VolleyError) as e:
            await resumed.result()
        assert e.value.code == ErrorCode.CANCELLED
        with pytest.raises(VolleyError) as e:
            await op.result()
        assert e.value.code == ErrorCode.CANCELLED
        assert await resumed.cancel() is False, "it had ended"
        with pytest.raises(VolleyError) as e:
            await other.operation("0" * 32).result()
        assert e.value.code == ErrorCode.OPERATION_NOT_FOUND


async def test_a_connection_lost_mid_operation_still_gets_the_result(encoding: str) -> None:
    port = int(server_url("device").rstrip("/").rsplit(":", 1)[1])
    proxy = CuttingProxy(port)
    url = await proxy.start()
    try:
        async with Client.connect(url, encoding=encoding, reconnect=Backoff(initial=0.02, maximum=0.1)) as client:
            await client.device.resume(by="ops")
            op = client.device.calibrate(axes=3, step_ms=100)
            assert await op.started() is not None
            proxy.cut()
            result = await asyncio.wait_for(op.result(), 10)
            assert result == Calibration(offsets=[0.01, 0.02, 0.03]), "awaited by id once the connection was back"
            assert proxy.accepted == 2
    finally:
        await proxy.close()
