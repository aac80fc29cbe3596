using NetLab.Core;

namespace NetLab.Stack.Tests.Codecs;

public class LinuxCapturesTests
{
    /// <summary>Every pasted fixture is, byte for byte, a frame of the pcap kept in Codecs/Fixtures (provenance check).</summary>
    [Theory]
    [InlineData("linux-codecs.pcap", 1, nameof(LinuxCaptures.ArpRequest))]
    [InlineData("linux-codecs.pcap", 2, nameof(LinuxCaptures.ArpReply))]
    [InlineData("linux-codecs.pcap", 3, nameof(LinuxCaptures.EchoRequest))]
    [InlineData("linux-codecs.pcap", 4, nameof(LinuxCaptures.EchoReply))]
    [InlineData("linux-codecs.pcap", 6, nameof(LinuxCaptures.TimeExceeded))]
    [InlineData("linux-codecs.pcap", 8, nameof(LinuxCaptures.FragNeeded))]
    [InlineData("linux-codecs.pcap", 9, nameof(LinuxCaptures.UdpHi))]
    [InlineData("linux-codecs.pcap", 11, nameof(LinuxCaptures.PortUnreachable))]
    [InlineData("linux-ipv4-options-fragments.pcap", 1, nameof(LinuxCaptures.RecordRouteEchoRequest))]
    [InlineData("linux-ipv4-options-fragments.pcap", 4, nameof(LinuxCaptures.LastFragment))]
    [InlineData("linux-tcp.pcap", 1, nameof(LinuxCaptures.TcpSyn))]
    [InlineData("linux-tcp.pcap", 2, nameof(LinuxCaptures.TcpSynAck))]
    [InlineData("linux-tcp.pcap", 3, nameof(LinuxCaptures.TcpAck))]
    [InlineData("linux-tcp.pcap", 4, nameof(LinuxCaptures.TcpPshData))]
    [InlineData("linux-tcp.pcap", 6, nameof(LinuxCaptures.TcpFin))]
    [InlineData("linux-tcp.pcap", 10, nameof(LinuxCaptures.TcpRst))]
    [InlineData("linux-tcp-sack.pcap", 1, nameof(LinuxCaptures.TcpSackAck1))]
    [InlineData("linux-tcp-sack.pcap", 2, nameof(LinuxCaptures.TcpSackAck3))]
    [InlineData("linux-tcp-sack.pcap", 3, nameof(LinuxCaptures.TcpSackAck4))]
    [InlineData("linux-tcp-fastopen.pcap", 1, nameof(LinuxCaptures.TcpFastOpenCookieRequest))]
    [InlineData("linux-tcp-fastopen.pcap", 2, nameof(LinuxCaptures.TcpFastOpenSynAckCookie))]
    [InlineData("linux-tcp-fastopen.pcap", 11, nameof(LinuxCaptures.TcpFastOpenSynData))]
    public void Fixture_IsAFrameOfTheCapture(string file, int frameNumber, string fixture)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Codecs", "Fixtures", file));
        var frames = Core.Pcap.PcapReader.ReadAll(stream);
        var expected = (byte[])typeof(LinuxCaptures).GetField(fixture)!.GetValue(null)!;
        Assert.Equal(Hex.Format(frames[frameNumber - 1].Data), Hex.Format(expected));
    }
}
