//! The directive table of nginx's standard modules (filled in by the directive-table work).
