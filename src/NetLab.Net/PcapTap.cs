using NetLab.Core.Pcap;
using NetLab.Stack.Link;

namespace NetLab.Net;

/// <summary>tcpdump -i DEV -w FILE: every frame the device sends or receives, at virtual time.</summary>
public sealed class PcapTap(PcapWriter writer) : IPacketTap, IDisposable
{
    public PcapWriter Writer { get; } = writer;

    public void OnFrame(NetDevice device, TapDirection direction, ReadOnlySpan<byte> frame, long timestampNs) =>
        Writer.Write(timestampNs, frame);

    public void Dispose() => Writer.Dispose();
}
