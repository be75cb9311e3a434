//! bgswitch: the deploy step of a blue-green switch on plain nginx.
//!
//! `switch` gates on the target pool's health URLs, edits the nginx
//! config through `nginx-edit`, runs `nginx -t`, reloads, proves that the
//! reload took (new worker processes), verifies through the load balancer,
//! rolls back on any failure, and drains the old pool once nginx's old
//! workers have finished their requests.

pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod flag;
pub mod health;
pub mod http;
pub mod init;
pub mod lab;
pub mod listeners;
pub mod nginx;
pub mod nginx_sees;
pub mod pools;
pub mod report;
pub mod soak;
pub mod state;
pub mod switch;
