// a bundle's outer wrapper: module functions and state inside an IIFE, exported through one global
(function () {
  var queue = [];
  var stats = { sent: 0, lost: 0 };
  var PREFIX = "home/hall/";
  function enqueue(m) { queue.push(m); stats.sent++; }
  function dequeue() { return queue.shift(); }
  function size() { return queue.length; }
  function clear() { queue = []; }
  function topic(n) { return PREFIX + n; }
  function format(n, v) { return topic(n) + "=" + v; }
  function parse(s) { var i = s.indexOf("="); return i < 0 ? null : { k: s.substr(0, i), v: s.substr(i + 1) }; }
  function report() { return JSON.stringify(stats); }
  enqueue("a"); enqueue("b");
  global.app = { enqueue: enqueue, dequeue: dequeue, size: size, clear: clear, format: format, parse: parse, report: report };
})();
