using NetLab.Core.Counters;

namespace NetLab.Core.Tests.Counters;

public class MibCountersTests
{
    private enum TestIpMib { InReceives, InHdrErrors, InAddrErrors, OutRequests }

    [Fact]
    public void IncAddAndIndexer()
    {
        var mib = new MibCounters<TestIpMib>("Ip");
        mib.Inc(TestIpMib.InReceives);
        mib.Inc(TestIpMib.InReceives);
        mib.Add(TestIpMib.OutRequests, 40);
        mib.Add(TestIpMib.OutRequests, 2);
        Assert.Equal(2, mib[TestIpMib.InReceives]);
        Assert.Equal(0, mib[TestIpMib.InHdrErrors]);
        Assert.Equal(42, mib[TestIpMib.OutRequests]);
        Assert.Equal("Ip", mib.Heading);
    }

    [Fact]
    public void All_ListsEveryCounterInDeclarationOrder()
    {
        var mib = new MibCounters<TestIpMib>("Ip");
        mib.Inc(TestIpMib.InAddrErrors);
        Assert.Equal([("InReceives", 0L), ("InHdrErrors", 0L), ("InAddrErrors", 1L), ("OutRequests", 0L)], mib.All());
    }

    [Fact]
    public void ToProcFormat_IsTwoLinesLikeProcNetSnmp()
    {
        var mib = new MibCounters<TestIpMib>("Ip");
        mib.Add(TestIpMib.InReceives, 7);
        mib.Inc(TestIpMib.OutRequests);
        Assert.Equal(
            "Ip: InReceives InHdrErrors InAddrErrors OutRequests\n" +
            "Ip: 7 0 0 1\n",
            mib.ToProcFormat());
    }

    [Fact]
    public void Instances_AreIndependent()
    {
        var a = new MibCounters<TestIpMib>("Ip");
        var b = new MibCounters<TestIpMib>("Ip");
        a.Inc(TestIpMib.InHdrErrors);
        Assert.Equal(0, b[TestIpMib.InHdrErrors]);
    }
}
