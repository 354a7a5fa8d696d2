//! A faithful simulator of the wolkvox API (being built).
