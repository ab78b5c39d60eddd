"""The limits of an order on the wire, as plain values: order's domain enforces them, order's edge and the
gateway's validate against them (clients.order), so a caller refuses exactly what order would."""

MAX_LINES = 20
MAX_QUANTITY = 99
