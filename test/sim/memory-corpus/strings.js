// globals holding strings of various lengths
var s0 = "", s1 = "x", s4 = "abcd", s8 = "abcdefgh", s9 = "abcdefghi";
var s12 = "abcdefghijkl", s16 = "abcdefghijklmnop", s20 = "abcdefghijklmnopqrst";
var s50 = "01234567890123456789012345678901234567890123456789";
var s100 = s50 + s50;
var s300 = s100 + s100 + s100;
var topic = "home/hall/status", greeting = "hello world";
var built = ["a", "b", "c"].join("-");
