// closures made at run time that hold state
function counter(start) { var n = start; return function () { n++; return n; }; }
function adder(k) { return function (x) { return x + k; }; }
function memo(fn) { var cache = {}; return function (x) { if (!(x in cache)) cache[x] = fn(x); return cache[x]; }; }
var c1 = counter(0), c2 = counter(100), c3 = counter(5000);
c1(); c1(); c2();
var add5 = adder(5), add7 = adder(7);
var sq = memo(function (x) { return x * x; });
sq(2); sq(3); sq(4);
var fns = [];
for (var i = 0; i < 8; i++) fns.push(adder(i));
