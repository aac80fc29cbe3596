using NetLab.Core.Packets;

namespace NetLab.Stack.Link;

/// <summary>
/// The sending side of a physical medium as a device driver sees it (the TX ring of one port).
/// NetLab.Net implements it with links; the TAP attachment implements it with a file descriptor.
/// </summary>
public interface IWire
{
    /// <summary>True while a frame is being serialised; the driver waits for <see cref="IWireEnd.OnWireIdle"/>.</summary>
    bool IsBusy { get; }

    /// <summary>Puts a frame on the wire. Takes ownership of <paramref name="frame"/>.</summary>
    void Transmit(Packet frame);
}

/// <summary>Whatever sits at one end of a wire: a NIC or a switch port.</summary>
public interface IWireEnd
{
    /// <summary>A frame arrived (fully received). Takes ownership of <paramref name="frame"/>.</summary>
    void OnFrameReceived(Packet frame);

    /// <summary>The wire finished sending the previous frame and can take the next.</summary>
    void OnWireIdle();

    /// <summary>Carrier on or off (cable plugged, peer up).</summary>
    void OnCarrierChanged(bool up);

    /// <summary>A cable is plugged in: frames go out through <paramref name="wire"/>; the end adopts the cable's MTU.</summary>
    void AttachWire(IWire wire, int mtu);
}

public enum TapDirection { Received, Transmitted }

/// <summary>A packet tap (tcpdump's dev_queue_xmit_nit / netif_receive_skb taps): sees frames, never owns them.</summary>
public interface IPacketTap
{
    void OnFrame(NetDevice device, TapDirection direction, ReadOnlySpan<byte> frame, long timestampNs);
}
