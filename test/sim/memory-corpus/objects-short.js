// objects with short (<= 4 character) property names
var p = { x: 1, y: 2, z: 3 };
var q = { a: 1.5, b: "hi", c: true, d: null };
var cfg = { id: 7, pin: 2, inv: 1, safe: 0 };
var list = [];
for (var i = 0; i < 10; i++) list.push({ n: i, v: i * 2, ok: i > 5 });
var e1 = {}, e2 = {};
