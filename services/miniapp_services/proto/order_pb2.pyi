from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class OrderRef(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class MarkPaidRequest(_message.Message):
    __slots__ = ("order_id", "payment_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    payment_id: str
    def __init__(self, order_id: _Optional[str] = ..., payment_id: _Optional[str] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "user_id", "total_cents", "status", "payment_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CENTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    user_id: int
    total_cents: int
    status: str
    payment_id: str
    def __init__(self, order_id: _Optional[str] = ..., user_id: _Optional[int] = ..., total_cents: _Optional[int] = ..., status: _Optional[str] = ..., payment_id: _Optional[str] = ...) -> None: ...
