"""Postal carrier protocols (bưu chính công ích). One module per carrier: `vnpost`."""
