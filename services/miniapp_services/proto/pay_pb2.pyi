from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SettleStep(_message.Message):
    __slots__ = ("order_id", "idempotency_key", "charge", "refund")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CHARGE_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    idempotency_key: str
    charge: Charge
    refund: Refund
    def __init__(self, order_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., charge: _Optional[_Union[Charge, _Mapping]] = ..., refund: _Optional[_Union[Refund, _Mapping]] = ...) -> None: ...

class Charge(_message.Message):
    __slots__ = ("amount_cents",)
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    amount_cents: int
    def __init__(self, amount_cents: _Optional[int] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SettleResult(_message.Message):
    __slots__ = ("order_id", "idempotency_key", "outcome", "payment_id", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    idempotency_key: str
    outcome: str
    payment_id: str
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., outcome: _Optional[str] = ..., payment_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
