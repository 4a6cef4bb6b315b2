// a socket to a local TCP server, with data/close/error handlers and a buffer
var net = require("net");
var rx = "";
var status = { open: false, chunks: 0 };
var sock = net.connect({ host: "127.0.0.1", port: __PORT__ }, function () {
  status.open = true;
  sock.write("hi\n");
});
sock.on("data", function (d) { rx += d; status.chunks++; });
sock.on("close", function () { status.open = false; });
sock.on("error", function (e) { status.err = String(e); });
