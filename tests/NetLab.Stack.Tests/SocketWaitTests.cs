using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;

namespace NetLab.Stack.Tests;

/// <summary>Async socket waits resume on the scheduler, at the virtual instant of the wake-up.</summary>
public class SocketWaitTests
{
    [Fact]
    public void RawReceiveAsync_WithATimeoutToken_ResumesAtTheArrivalInstant_OnTheSchedulerThread()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        using var s = RawSocket.Open(a, IpProtocol.Icmp);
        int thread = Environment.CurrentManagedThreadId;
        async Task<(SimTime At, long ArrivedNs, int Thread)> Receive()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), w.Scheduler.TimeProvider);
            var d = await s.ReceiveAsync(timeout.Token);
            return (w.Now, d.TimestampNs, Environment.CurrentManagedThreadId);
        }
        Task<(SimTime, long, int)> task;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(w.Scheduler.SynchronizationContext);
        try { task = Receive(); }
        finally { SynchronizationContext.SetSynchronizationContext(previous); }
        Assert.Equal(Errno.None, s.SendTo(TestNetworks.EchoRequest(7, 1, 56), Ipv4Address.Parse("10.0.0.2")));
        var (at, arrived, resumedOn) = w.Scheduler.Run(task);
        Assert.Equal(arrived, at.Nanoseconds);
        Assert.True(at < SimTime.Zero + SimDuration.FromSeconds(1));
        Assert.Equal(thread, resumedOn);
    }

    [Fact]
    public void UdpWaitReadableAsync_IsCancelledByItsVirtualTimeout()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        var s = a.Udp.Open();
        Assert.Equal(Errno.None, s.Bind(Ipv4Address.Any, 5000));
        async Task<SimTime> Wait()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), w.Scheduler.TimeProvider);
            try { await s.WaitReadableAsync(timeout.Token); }
            catch (OperationCanceledException) { }
            return w.Now;
        }
        Task<SimTime> task;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(w.Scheduler.SynchronizationContext);
        try { task = Wait(); }
        finally { SynchronizationContext.SetSynchronizationContext(previous); }
        Assert.Equal(SimTime.Zero + SimDuration.FromSeconds(2), w.Scheduler.Run(task));
        s.Dispose();
    }
}
