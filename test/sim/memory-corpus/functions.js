// many small top-level functions with 0-3 parameters (bodies stay in flash)
function f0() { return 1; }
function f1(a) { return a + 1; }
function f2(a, b) { return a + b; }
function f3(a, b, c) { return a + b + c; }
function clamp(v, lo, hi) { return v < lo ? lo : v > hi ? hi : v; }
function scale(v, k) { return v * k; }
function isNum(v) { return typeof v === "number"; }
function pad2(n) { return n < 10 ? "0" + n : "" + n; }
function now() { return Date.now(); }
function sum(arr) { var s = 0; for (var i = 0; i < arr.length; i++) s += arr[i]; return s; }
function mean(arr) { return arr.length ? sum(arr) / arr.length : 0; }
function maxOf(arr) { var m = -Infinity; for (var i = 0; i < arr.length; i++) if (arr[i] > m) m = arr[i]; return m; }
function minOf(arr) { var m = Infinity; for (var i = 0; i < arr.length; i++) if (arr[i] < m) m = arr[i]; return m; }
function round1(v) { return Math.round(v * 10) / 10; }
function hexByte(b) { return (b < 16 ? "0" : "") + b.toString(16); }
function noop() {}
function ident(x) { return x; }
function both(a, b) { return a && b; }
function either(a, b) { return a || b; }
function topicOf(prefix, name) { return prefix + name; }
var g1 = function (x) { return x * 2; };
var g2 = function (x, y) { return x - y; };
var handlers = { on: function (v) { return v; }, off: function () { return 0; }, toggle: function (v) { return !v; } };
