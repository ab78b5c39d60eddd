from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetProductRequest(_message.Message):
    __slots__ = ("sku",)
    SKU_FIELD_NUMBER: _ClassVar[int]
    sku: str
    def __init__(self, sku: _Optional[str] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("sku", "title", "price_cents", "category", "on_sale")
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRICE_CENTS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ON_SALE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    title: str
    price_cents: int
    category: str
    on_sale: bool
    def __init__(self, sku: _Optional[str] = ..., title: _Optional[str] = ..., price_cents: _Optional[int] = ..., category: _Optional[str] = ..., on_sale: _Optional[bool] = ...) -> None: ...
