"""Payment gateway protocols (pure functions), used by the `payment` step and its
simulator. One module per gateway: `vnpay` (VNPay 2.1.0)."""
