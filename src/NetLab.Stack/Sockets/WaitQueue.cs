namespace NetLab.Stack.Sockets;

/// <summary>
/// A socket's wait queue (wait_queue_head_t): tasks that sleep until the socket is woken or their
/// token is cancelled. Each waiter gets its own task and is awaited directly, so its continuation
/// is posted to the awaiting SynchronizationContext (the world's scheduler) at the instant of the
/// wake-up. Combinators such as Task.WaitAsync would instead resume a RunContinuationsAsynchronously
/// task on the thread pool, outside virtual time. Programs use one to wait on several sockets at
/// once (poll()): wake it from each socket's Readable event.
/// </summary>
public sealed class WaitQueue
{
    private readonly List<(TaskCompletionSource Task, CancellationTokenRegistration Registration)> _waiters = [];

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(() =>
            {
                _waiters.RemoveAll(w => w.Task == tcs);
                tcs.TrySetCanceled(cancellationToken);
            })
            : default;
        _waiters.Add((tcs, registration));
        return tcs.Task;
    }

    /// <summary>wake_up_interruptible_all(): every waiter resumes.</summary>
    public void WakeAll()
    {
        if (_waiters.Count == 0) return;
        var waiters = _waiters.ToArray();
        _waiters.Clear();
        foreach (var (tcs, registration) in waiters)
        {
            registration.Dispose();
            tcs.TrySetResult();
        }
    }
}
