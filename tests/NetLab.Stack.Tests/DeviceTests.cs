using NetLab.Net;

namespace NetLab.Stack.Tests;

public class DeviceTests
{
    [Fact]
    public void Loopback_IsOperStateUnknown_AsLinuxShowsLo()
    {
        var w = new World();
        var h = w.AddHost("h");
        Assert.Equal("UNKNOWN", h.Loopback.OperState);
        h.Loopback.SetUp(false);
        Assert.Equal("DOWN", h.Loopback.OperState);
    }

    [Fact]
    public void Ethernet_IsUpOnlyWithCarrier()
    {
        var w = new World();
        var h = w.AddHost("h");
        var eth = h.AddEthernet("eth0");
        Assert.Equal("DOWN", eth.OperState);
        eth.SetUp(true);
        Assert.Equal("DOWN", eth.OperState); // NO-CARRIER: no cable yet
        var sw = w.AddSwitch("sw");
        w.Connect(eth, sw.AddPort());
        Assert.Equal("UP", eth.OperState);
    }
}
