using NetLab.Lab.Scenarios;
using Xunit;

namespace NetLab.Lab.Tests.Scenarios;

public class ScenarioParserErrorTests
{
    // Line 1: hosts a (eth0, eth1) and b (eth0); line 2: switch sw1. Rows built on it start at line 3.
    private const string Lan = "hosts: { a: { interfaces: { eth0: {}, eth1: {} } }, b: { interfaces: { eth0: {} } } }\nswitches: { sw1: {} }\n";

    /// <summary>YAML, then the one error expected: line, column, field path and a part of the message.</summary>
    public static TheoryData<string, int, int, string, string> BadInputs => new()
    {
        // A misspelt field is reported at its key, with the fields that are allowed.
        { Lan + "links:\n  - { endpoints: [ \"a:eth0\", sw1 ], ratee: 1Gbit }\n", 4, 37, "links[0].ratee", "unknown field 'ratee' in link; expected one of: endpoints, rate, delay, jitter, loss, mtu" },
        // A prefix length beyond /32.
        { "hosts:\n  a: { interfaces: { eth0: { address: 10.0.1.2/33 } } }\n", 2, 39, "hosts.a.interfaces.eth0.address", "prefix length /33 is out of range 0-32" },
        // An octet beyond 255, in the second address of a list.
        { "hosts:\n  a:\n    interfaces:\n      eth0: { address: [ 10.0.0.1/8, 300.1.1.1/24 ] }\n", 4, 38, "hosts.a.interfaces.eth0.address[1]", "'300.1.1.1' is not an IPv4 address" },
        // A link to a host that does not exist.
        { Lan + "links:\n  - { endpoints: [ \"x:eth0\", sw1 ] }\n", 4, 20, "links[0].endpoints[0]", "unknown host 'x'" },
        // A link to an interface the host does not declare.
        { Lan + "links:\n  - { endpoints: [ sw1, \"b:eth1\" ] }\n", 4, 25, "links[0].endpoints[1]", "host 'b' has no interface 'eth1'; it declares eth0" },
        // An interface in two links: the second use is the error.
        { Lan + "links:\n  - { endpoints: [ \"a:eth0\", sw1 ] }\n  - { endpoints: [ \"b:eth0\", \"a:eth0\" ] }\n", 5, 30, "links[1].endpoints[1]", "a:eth0 is already connected by links[0]" },
        // Both ends of a link on one switch.
        { Lan + "links:\n  - { endpoints: [ sw1, sw1 ] }\n", 4, 18, "links[0].endpoints", "both endpoints are sw1" },
        // A duration without a unit.
        { Lan + "links:\n  - { endpoints: [ \"a:eth0\", sw1 ], delay: 10 }\n", 4, 44, "links[0].delay", "'10' is not a duration" },
        // A rate that is not a number and a tc unit.
        { Lan + "links:\n  - { endpoints: [ \"a:eth0\", sw1 ], rate: fast }\n", 4, 43, "links[0].rate", "'fast' is not a rate" },
        // A loss above 100%.
        { Lan + "links:\n  - { endpoints: [ \"a:eth0\", sw1 ], loss: 150% }\n", 4, 43, "links[0].loss", "150% is out of range 0%-100%" },
        // An MTU below IPv4's minimum of 68.
        { Lan + "links:\n  - { endpoints: [ \"a:eth0\", sw1 ], mtu: 10 }\n", 4, 42, "links[0].mtu", "10 is out of range 68-65535" },
        // A link without endpoints: reported at the link.
        { Lan + "links:\n  - { rate: 1Gbit }\n", 4, 5, "links[0]", "missing required field 'endpoints'" },
        // A link with three endpoints.
        { Lan + "links:\n  - endpoints: [ \"a:eth0\", sw1, \"b:eth0\" ]\n", 4, 16, "links[0].endpoints", "expected exactly two endpoints, got 3" },
        // A command on a host that does not exist.
        { Lan + "timeline:\n  - { at: 1s, on: c, run: \"ping 10.0.0.1\" }\n", 4, 19, "timeline[0].on", "unknown host 'c'" },
        // A command without a command line.
        { Lan + "timeline:\n  - { at: 1s, on: a }\n", 4, 5, "timeline[0]", "missing required field 'run'" },
        // A command after the end of the run.
        { "duration: 10s\n" + Lan + "timeline:\n  - { at: 11s, on: a, run: \"ping 10.0.0.1\" }\n", 5, 11, "timeline[0].at", "11s is after the end of the run (duration 10s)" },
        // A capture of an interface the host does not declare.
        { Lan + "capture: [ \"a:eth0\", \"a:eth7\" ]\n", 3, 22, "capture[1]", "host 'a' has no interface 'eth7'; it declares eth0, eth1" },
        // A capture of a switch.
        { Lan + "capture: [ sw1 ]\n", 3, 12, "capture[0]", "'sw1' is not a host interface; expected host:iface" },
        // A switch named like a host: hosts, routers and switches share one namespace.
        { "hosts: { a: {} }\nswitches:\n  a: {}\n", 3, 3, "switches.a", "name 'a' is already used by hosts.a" },
        // A router named like a host.
        { "hosts: { r: {} }\nrouters: { r: {} }\n", 2, 12, "routers.r", "name 'r' is already used by hosts.r" },
        // A YAML syntax error has no field path.
        { "hosts: { a: {} }\nseed: \"1\n", 2, 7, "", "invalid YAML: While scanning a quoted scalar, found unexpected end of stream." },
        // A '}' missing: YamlDotNet's scanner throws a bare InvalidOperationException, reported where the scanner stopped.
        { "hosts:\n  a: { interfaces: { eth0: {} }\n  b: {}\n", 3, 3, "", "invalid YAML: a value inside [...] or {...} continues on a less indented line (a missing ']' or '}'?)" },
        // A string where a mapping is expected.
        { "hosts:\n  a: { interfaces: eth0 }\n", 2, 20, "hosts.a.interfaces", "expected a mapping of interfaces, got 'eth0'" },
        // A list where a single value is expected.
        { "hosts: { a: {} }\nduration: [ 1s ]\n", 2, 11, "duration", "expected a single value, got a list" },
        // A boolean spelt the YAML 1.1 way.
        { "routers:\n  r1: { forward: yes }\n", 2, 18, "routers.r1.forward", "'yes' is not a boolean; expected true or false" },
        // An interface name Linux refuses.
        { "hosts:\n  a: { interfaces: { \"eth0/1\": {} } }\n", 2, 22, "hosts.a.interfaces.eth0/1", "'eth0/1' is not a valid interface name" },
        // A multicast MAC address.
        { "hosts:\n  a: { interfaces: { eth0: { mac: \"01:00:5e:00:00:01\" } } }\n", 2, 35, "hosts.a.interfaces.eth0.mac", "01:00:5e:00:00:01 is a multicast address" },
        // An empty route.
        { "hosts:\n  a: { routes: [ \"default via 10.0.0.1\", \" \" ] }\n", 2, 42, "hosts.a.routes[1]", "must not be empty" },
        // An unknown top-level field.
        { "hosts: {}\nhostz: {}\n", 2, 1, "hostz", "unknown field 'hostz' in scenario" },
        // A duplicate key, which YAML forbids.
        { "hosts:\n  a: {}\n  a: {}\n", 3, 3, "", "invalid YAML: Duplicate key" },
        // An empty file.
        { "", 1, 1, "", "the file is empty" },
        // A ']' missing.
        { "seed: [1, 2\nduration: 3s\n", 2, 1, "", "a missing ']' or '}'?" },
        // A key without a value, which YamlDotNet's parser lets through and its node builder would throw on.
        { "- : \n", 1, 4, "", "invalid YAML: a mapping key without a value" },
        // A tag that is not a URI: YamlDotNet throws a bare ArgumentException, reported where the scanner stopped.
        { "seed: !![x 1\n", 1, 11, "", "invalid YAML: malformed input just before this point" },
        // Nesting deep enough to overflow YamlStream's recursive loader: the 64th '[' is level 65 under the root mapping.
        { "x: " + new string('[', 10_000), 1, 67, "", "invalid YAML: collections nested deeper than 64 levels" },
        // A collection as a mapping key: YamlDotNet hashes keys recursively, and this one contains itself.
        { "? &k [ *k ]\n: 1\n", 1, 3, "", "invalid YAML: a mapping key must be a plain value" },
        // A collection that contains itself.
        { "hosts: &h { a: *h }\n", 1, 16, "", "invalid YAML: alias *h is inside the collection it names" },
        // An alias to an anchor that was never defined.
        { "hosts: { a: {} }\nseed: *nope\n", 2, 7, "", "invalid YAML: alias *nope refers to no anchor defined before it" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_IsReportedAtTheOffendingNode(string yaml, int line, int column, string path, string message)
    {
        var result = ScenarioParser.Parse(yaml, "bad.yaml");

        Assert.False(result.Success);
        var error = Assert.Single(result.Errors);
        Assert.Equal(("bad.yaml", line, column, path), (error.File, error.Line, error.Column, error.Path));
        Assert.Contains(message, error.Message);
        Assert.StartsWith($"bad.yaml:{line}:{column}: ", error.ToString());
    }
}
