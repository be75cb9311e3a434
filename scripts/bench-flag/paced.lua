-- wrk: keep-alive connections that never retry, paced (2 ms between two
-- requests of a connection) so the load leaves the switch some CPU.
function delay()
  return 2
end
