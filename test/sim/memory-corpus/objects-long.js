// objects with long property names
var device = { identifier: "hall", temperature: 21.5, humidity: 40, firmwareVersion: "1.2.3", reconnectDelay: 5000 };
var settings = { publishInterval: 10000, deadband: 0.5, precision: 1, qualityOfService: 1, keepAliveSeconds: 60 };
var sensors = [];
for (var i = 0; i < 5; i++) sensors.push({ sensorName: "s" + i, lastReading: i + 0.25, readingCount: i, enabled: true });
var veryLongPropertyNameHolder = { aPropertyWithAVeryLongNameIndeed: 1, anotherRatherLongPropertyName: 2 };
