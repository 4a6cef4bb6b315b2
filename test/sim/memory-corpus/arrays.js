// arrays: ints, floats, strings, nested, empty
var ints = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
var bigs = [5000, 6000, 70000, -9999];
var floats = [0.5, 1.25, 2.125, 3.0625, 4.1];
var strs = ["alpha", "beta", "gamma", "delta", "a much longer string element here"];
var grid = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
var empty = [], empties = [[], [], []];
var built = [];
for (var i = 0; i < 30; i++) built.push(i);
var mixed = [1, "two", 3.5, null, true, { k: 1 }];
