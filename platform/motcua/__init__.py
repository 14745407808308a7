"""Motcua — low-code platform for Vietnamese online public services (dịch vụ công trực tuyến)."""
