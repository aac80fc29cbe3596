using NetLab.Core.Sysctl;

namespace NetLab.Core.Tests.Sysctl;

public class SysctlTreeTests
{
    private sealed class Ipv4Holder
    {
        [Sysctl("ip_forward", Min = 0, Max = 1)]
        public int IpForward { get; set; }

        [Sysctl("tcp_syn_retries", Min = 1, Max = 127)]
        public int TcpSynRetries { get; set; } = 6;

        [Sysctl("tcp_rmem", Min = 1)]
        public int[] TcpRmem { get; set; } = [4096, 131072, 6291456];

        [Sysctl("tcp_congestion_control")]
        public string TcpCongestionControl { get; set; } = "cubic";

        [Sysctl("tcp_limit_output_bytes")]
        public long TcpLimitOutputBytes { get; set; } = 1048576;

        public int NotASysctl { get; set; } = 3;
    }

    private static (SysctlTree Tree, Ipv4Holder Holder) Make()
    {
        var tree = new SysctlTree();
        var holder = new Ipv4Holder();
        tree.Register("net.ipv4.", holder);
        return (tree, holder);
    }

    [Fact]
    public void Register_NamesEveryAttributedProperty_InOrdinalOrder()
    {
        var (tree, _) = Make();
        Assert.Equal(
            ["net.ipv4.ip_forward", "net.ipv4.tcp_congestion_control", "net.ipv4.tcp_limit_output_bytes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_syn_retries"],
            tree.Keys);
        Assert.False(tree.Contains("net.ipv4.NotASysctl"));
    }

    [Fact]
    public void All_FormatsValuesAsProcDoes_VectorsTabSeparated()
    {
        var (tree, _) = Make();
        Assert.Equal(
            [
                ("net.ipv4.ip_forward", "0"),
                ("net.ipv4.tcp_congestion_control", "cubic"),
                ("net.ipv4.tcp_limit_output_bytes", "1048576"),
                ("net.ipv4.tcp_rmem", "4096\t131072\t6291456"), // "sysctl net.ipv4.tcp_rmem" prints tabs
                ("net.ipv4.tcp_syn_retries", "6"),
            ],
            tree.All());
    }

    [Fact]
    public void Set_WritesThroughToTheHolder_AndGetReadsIt()
    {
        var (tree, holder) = Make();
        tree.Set("net.ipv4.ip_forward", "1");
        Assert.Equal(1, holder.IpForward);
        Assert.Equal("1", tree.Get("net.ipv4.ip_forward"));
        tree.Set("net.ipv4.tcp_congestion_control", " reno \n");
        Assert.Equal("reno", holder.TcpCongestionControl);
        tree.Set("net.ipv4.tcp_limit_output_bytes", "4294967296");
        Assert.Equal(4294967296L, holder.TcpLimitOutputBytes);
        holder.TcpSynRetries = 3; // the stack may change a value behind the tree's back: Get reads the property
        Assert.Equal("3", tree.Get("net.ipv4.tcp_syn_retries"));
    }

    [Fact]
    public void Set_Vector_ReplacesTheLeadingValues_AndKeepsTheRest()
    {
        var (tree, holder) = Make();
        tree.Set("net.ipv4.tcp_rmem", "8192\t65536");
        Assert.Equal([8192, 65536, 6291456], holder.TcpRmem);
        tree.Set("net.ipv4.tcp_rmem", "1 2 3 4"); // extra values are ignored
        Assert.Equal("1\t2\t3", tree.Get("net.ipv4.tcp_rmem"));
    }

    [Theory]
    [InlineData("net/ipv4/ip_forward")]
    [InlineData("net.ipv4.ip_forward")]
    public void Keys_MayUseSlashes(string key)
    {
        var (tree, holder) = Make();
        Assert.True(tree.Contains(key));
        tree.Set(key, "1");
        Assert.Equal(1, holder.IpForward);
        Assert.True(tree.TryGet(key, out var v));
        Assert.Equal("1", v);
    }

    [Fact]
    public void UnknownKey_GivesSysctlsMessage()
    {
        // procps-ng 4.0.2, checked in a netns: "sysctl net.ipv4.nonexistent" and "sysctl -w net.ipv4.nonexistent=1".
        var (tree, _) = Make();
        Assert.False(tree.TryGet("net.ipv4.nonexistent", out _));
        Assert.Equal(SysctlResult.UnknownKey, tree.TrySet("net.ipv4.nonexistent", "1"));
        var e1 = Assert.Throws<KeyNotFoundException>(() => tree.Get("net.ipv4.nonexistent"));
        Assert.Equal("sysctl: cannot stat /proc/sys/net/ipv4/nonexistent: No such file or directory", e1.Message);
        var e2 = Assert.Throws<KeyNotFoundException>(() => tree.Set("net/ipv4/nonexistent", "1"));
        Assert.Equal("sysctl: cannot stat /proc/sys/net/ipv4/nonexistent: No such file or directory", e2.Message);
    }

    [Theory]
    [InlineData("net.ipv4.tcp_syn_retries", "200")]     // above Max (procps-ng 4.0.2 in a netns: Invalid argument)
    [InlineData("net.ipv4.tcp_syn_retries", "0")]       // below Min
    [InlineData("net.ipv4.tcp_syn_retries", "abc")]     // not a number (Linux: Invalid argument)
    [InlineData("net.ipv4.tcp_syn_retries", "")]
    [InlineData("net.ipv4.tcp_syn_retries", "99999999999")] // beyond an int
    [InlineData("net.ipv4.ip_forward", "2")]
    [InlineData("net.ipv4.ip_forward", "-1")]
    [InlineData("net.ipv4.tcp_rmem", "1 2 99999999999")] // Linux: 'setting key "net.ipv4.tcp_rmem": Invalid argument'
    [InlineData("net.ipv4.tcp_rmem", "1 0 3")]          // an element below Min
    [InlineData("net/ipv4/tcp_rmem", "1 x 3")]
    public void InvalidValues_AreRejectedWithSysctlsMessage_AndChangeNothing(string key, string value)
    {
        var (tree, _) = Make();
        var before = tree.All().ToList();
        Assert.Equal(SysctlResult.InvalidArgument, tree.TrySet(key, value));
        var e = Assert.Throws<ArgumentException>(() => tree.Set(key, value));
        Assert.Equal($"sysctl: setting key \"{SysctlTree.Normalize(key)}\": Invalid argument", e.Message);
        Assert.Equal(before, tree.All());
    }

    [Fact]
    public void Unregister_RemovesAPrefix()
    {
        var tree = new SysctlTree();
        tree.Register("net.ipv4.conf.eth0.", new Ipv4Holder());
        tree.Register("net.ipv4.conf.eth1.", new Ipv4Holder());
        tree.Unregister("net.ipv4.conf.eth0.");
        Assert.DoesNotContain(tree.Keys, k => k.StartsWith("net.ipv4.conf.eth0.", StringComparison.Ordinal));
        Assert.Contains("net.ipv4.conf.eth1.ip_forward", tree.Keys);
    }

    [Fact]
    public void TwoHolders_AreIndependent()
    {
        var tree = new SysctlTree();
        var eth0 = new Ipv4Holder();
        var eth1 = new Ipv4Holder();
        tree.Register("net.ipv4.conf.eth0.", eth0);
        tree.Register("net.ipv4.conf.eth1.", eth1);
        tree.Set("net.ipv4.conf.eth1.ip_forward", "1");
        Assert.Equal((0, 1), (eth0.IpForward, eth1.IpForward));
    }
}
