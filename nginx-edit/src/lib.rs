//! nginx-edit
