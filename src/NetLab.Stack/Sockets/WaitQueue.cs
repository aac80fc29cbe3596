using NetLab.Core.Time;

namespace NetLab.Stack.Sockets;

/// <summary>
/// A socket's wait queue (wait_queue_head_t): tasks that sleep until the socket is woken or their
/// token is cancelled. A wake-up completes each waiter's task from an event posted to the world's
/// scheduler at the same instant, so continuations run on the loop in virtual time, never inside the
/// stack code that woke them; the socket's own async methods await with ConfigureAwait(false), so library
/// code that does the same (StreamReader, SslStream, pipes) stays on the loop too. Programs use one to wait on several sockets at once
/// (poll()): wake it from each socket's Readable event.
/// </summary>
public sealed class WaitQueue(Scheduler scheduler)
{
    // Created by the first waiter: most sockets (idle connections, a listener's children) never have one.
    private List<(TaskCompletionSource Task, CancellationTokenRegistration Registration)>? _waiters;

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        var tcs = new TaskCompletionSource();
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(() =>
            {
                _waiters?.RemoveAll(w => w.Task == tcs);
                scheduler.Post(_ => CompleteOutsideContext(tcs, cancellationToken), null);
            })
            : default;
        (_waiters ??= []).Add((tcs, registration));
        return tcs.Task;
    }

    /// <summary>wake_up_interruptible_all(): every waiter resumes.</summary>
    public void WakeAll()
    {
        if (_waiters is not { Count: > 0 }) return;
        var waiters = _waiters.ToArray();
        _waiters.Clear();
        foreach (var (tcs, registration) in waiters)
        {
            registration.Dispose();
            scheduler.Post(static s => CompleteOutsideContext((TaskCompletionSource)s!), tcs);
        }
    }

    /// <summary>
    /// Completes a waiter with no SynchronizationContext current: continuations that captured the loop's
    /// context are posted back to it (as always), and ConfigureAwait(false) continuations, which .NET only
    /// inlines when no context is current, run here on the loop instead of on the thread pool.
    /// </summary>
    private static void CompleteOutsideContext(TaskCompletionSource tcs, CancellationToken cancelled = default)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            if (cancelled.IsCancellationRequested) tcs.TrySetCanceled(cancelled);
            else tcs.TrySetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }
}
