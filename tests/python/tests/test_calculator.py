"""The calculator example's generated SDK against the running server, in both encodings:
unary calls, typed errors, structs with maps and an adjacently tagged enum."""

from __future__ import annotations

import pytest
from calculator_client import (
    Batch,
    CallOptions,
    Client,
    DivErrorDivisionByZero,
    DivErrorOverflow,
    DivideError,
    ErrorCode,
    OperationNegate,
    OperationPower,
    OperationSum,
    VolleyError,
)


async def test_add(calculator: Client) -> None:
    assert await calculator.add(a=1, b=2) == 3
    assert await calculator.add(a=-40, b=2) == -38


async def test_add_keeps_64_bit_precision(calculator: Client) -> None:
    big = 2**62 + 1
    assert await calculator.add(a=big, b=2) == big + 2


async def test_divide(calculator: Client) -> None:
    assert await calculator.divide(a=1, b=4) == 0.25


async def test_divide_by_zero_raises_the_typed_error(calculator: Client) -> None:
    with pytest.raises(DivideError) as caught:
        await calculator.divide(a=1, b=0)
    assert caught.value.code == ErrorCode.APPLICATION
    assert caught.value.message == "division by zero"
    assert isinstance(caught.value.data, DivErrorDivisionByZero)


async def test_overflow_carries_typed_data(calculator: Client) -> None:
    with pytest.raises(DivideError) as caught:
        await calculator.divide(a=1e308, b=1e-308)
    data = caught.value.data
    assert isinstance(data, DivErrorOverflow)
    assert data.dividend == 1e308


async def test_evaluate_structs_maps_and_tagged_enums(calculator: Client) -> None:
    batch = Batch(
        label="mixed",
        operations={
            "total": OperationSum(value=[1.5, 2.5, 3.0]),
            "square": OperationPower(value=3.0, exponent=2),
            "minus": OperationNegate(value=2.0),
            "huge": OperationPower(value=10.0, exponent=400),
        },
        precision=2,
    )
    report = await calculator.calc.evaluate(batch=batch)
    assert report.label == "mixed"
    assert report.succeeded == 3
    assert report.outcomes["total"].value == 7.0
    assert report.outcomes["square"].value == 9.0
    assert report.outcomes["minus"].value == -2.0
    assert report.outcomes["huge"].value is None
    assert report.outcomes["huge"].error == "the result is not a finite number"


async def test_optional_fields_are_left_out(calculator: Client) -> None:
    report = await calculator.calc.evaluate(batch=Batch(label="x", operations={"third": OperationSum(value=[1 / 3])}))
    third = report.outcomes["third"].value
    assert third is not None and abs(third - 1 / 3) < 1e-12


async def test_invalid_params_are_reported(calculator: Client) -> None:
    with pytest.raises(VolleyError) as caught:
        await calculator.calc.evaluate(batch=Batch(label="", operations={}))
    assert caught.value.code == ErrorCode.INVALID_PARAMS
    assert caught.value.code_name == "INVALID_PARAMS"


async def test_response_with_metadata(calculator: Client) -> None:
    response = await calculator.add(a=2, b=2, options=CallOptions(metadata={"k": "v"})).with_metadata()
    assert response.value == 4
    assert response.metadata == {}
    assert response.warnings == []


async def test_untyped_call_of_an_unknown_method(calculator: Client) -> None:
    with pytest.raises(VolleyError) as caught:
        await calculator.connection.unary("no.such.method", {}, None, lambda v: v)
    assert caught.value.code == ErrorCode.METHOD_NOT_FOUND


async def test_calls_run_concurrently(calculator: Client) -> None:
    import asyncio

    results = await asyncio.gather(*(calculator.add(a=i, b=i) for i in range(50)))
    assert results == [2 * i for i in range(50)]


async def test_reserved_methods_have_no_typed_members(calculator: Client) -> None:
    # volley.introspect, volley.subscribe and volley.unsubscribe are the protocol's own:
    # the runtime calls them, the generated client offers them nowhere.
    assert not hasattr(calculator, "volley")
    schema = await calculator.connection.unary("volley.introspect", {}, None, lambda v: v)
    assert "volley.subscribe" in [m["name"] for m in schema["methods"]]
