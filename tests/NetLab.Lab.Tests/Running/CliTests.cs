using NetLab.Cli;

namespace NetLab.Lab.Tests.Running;

public class CliTests
{
    private static (int Exit, string Out, string Err) Netlab(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.BuildCommand(o, e).Parse(args).Invoke();
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    // A typo in a field name, on line 4.
    [InlineData("hosts:\n  a: { interfaces: { eth0: { address: 10.0.0.1/24 } } }\nlinks:\n  - { endpoints: [ \"a:eth0\", \"b:eth0\" ], ratee: 1Gbit }\n", ":4:", "ratee")]
    // An impossible mask, /33.
    [InlineData("hosts:\n  a: { interfaces: { eth0: { address: 10.0.0.1/33 } } }\n", ":2:", "/33")]
    // A link to a host that does not exist.
    [InlineData("hosts:\n  a: { interfaces: { eth0: { address: 10.0.0.1/24 } } }\nlinks:\n  - { endpoints: [ \"a:eth0\", \"zz:eth0\" ] }\n", ":4:", "zz")]
    // A route the stack refuses (gateway not on-link).
    [InlineData("hosts:\n  a: { interfaces: { eth0: { address: 10.0.0.1/24 } }, routes: [ \"default via 192.0.2.1\" ] }\n", ":2:", "routes[0]")]
    // An unknown sysctl.
    [InlineData("hosts:\n  a: { sysctl: { net.ipv4.no_such_thing: 1 } }\n", ":2:", "no_such_thing")]
    public void InvalidScenario_ExitCode2_NamesLineAndField(string yaml, string line, string field)
    {
        var file = Path.Combine(RepoPaths.TempDir(), "bad.yaml");
        File.WriteAllText(file, yaml);
        var (exit, _, err) = Netlab("run", file, "--out", RepoPaths.TempDir());
        Assert.Equal(2, exit);
        Assert.Contains("bad.yaml" + line, err);
        Assert.Contains(field, err);
    }

    [Fact]
    public void Run_PrintsCommandsWithVirtualTimeAndHost_AndWritesPcaps()
    {
        var dir = RepoPaths.TempDir();
        var (exit, o, err) = Netlab("run", RepoPaths.Scenario("tour.yaml"), "--out", dir);
        Assert.True(exit == 0, err);
        Assert.Contains("[   1.000000] a$ ping -c 3 10.0.2.2", o);
        Assert.Contains("[   1.000000] a: PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.", o);
        Assert.True(File.Exists(Path.Combine(dir, "a-eth0.pcap")));
        Assert.True(File.Exists(Path.Combine(dir, "r1-eth1.pcap")));
        Assert.Equal(o.Split('\n').Count(l => l.StartsWith('[')), File.ReadAllLines(Path.Combine(dir, "transcript.txt")).Length);
    }

    [Fact]
    public void MissingFile_ExitCode2()
    {
        var (exit, _, err) = Netlab("run", "/nonexistent/x.yaml");
        Assert.Equal(2, exit);
        Assert.Contains("No such file", err);
    }
}
