"""The platform every domain of Liên Thông stands on, and (in ``app``/``cli``) the assembly."""
