"""kefu (客服): customer-service and after-sales platform for e-commerce."""

__version__ = "0.1.0"
