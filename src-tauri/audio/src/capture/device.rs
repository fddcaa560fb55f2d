//! Finding, opening and reading the input device: everything that talks to cpal.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, SampleFormat, SizedSample, I24, U24};

use super::{CaptureConfig, CaptureError, InputDevice, NativeFormat, MIN_QUEUE_MS};
use crate::queue::{self, QueueReceiver, QueueSender};

/// The input devices the default audio host knows. Devices that fail to describe themselves
/// are skipped.
pub fn list_input_devices() -> Result<Vec<InputDevice>, CaptureError> {
    let host = cpal::default_host();
    let default_id = host.default_input_device().and_then(|d| d.id().ok());
    let devices = host.input_devices().map_err(|e| CaptureError::Devices {
        detail: e.to_string(),
    })?;
    Ok(devices
        .filter_map(|device| {
            let id = device.id().ok()?;
            let name = device.description().ok()?.name().to_owned();
            let is_default = default_id.as_ref() == Some(&id);
            Some(InputDevice {
                name,
                id: id.id().to_owned(),
                is_default,
            })
        })
        .collect())
}

/// An open, playing stream and the receiving end of its queue.
pub(super) struct Opened {
    // Dropping the stream stops the callback; keep it alive while pumping.
    pub(super) stream: cpal::Stream,
    pub(super) queue: QueueReceiver,
    pub(super) errors: Receiver<cpal::Error>,
    pub(super) device: String,
    pub(super) format: NativeFormat,
}

/// Finds the configured device, opens it at its native format and starts it playing.
pub(super) fn open(config: &CaptureConfig) -> Result<Opened, CaptureError> {
    let host = cpal::default_host();
    let device = find_device(&host, config.device.as_deref())?;
    let name = device_name(&device);
    let is_default = config.device.is_none();
    let supported = device
        .default_input_config()
        .map_err(|e| open_error(&host, &name, is_default, &e))?;
    let format = NativeFormat {
        sample_rate: supported.sample_rate(),
        channels: supported.channels(),
        sample_format: supported.sample_format().to_string(),
    };
    if format.sample_rate == 0 || format.channels == 0 {
        let detail = format!("{} Hz, {} channels", format.sample_rate, format.channels);
        return Err(CaptureError::UnsupportedFormat {
            device: name,
            detail,
        });
    }
    let queue_ms = config.queue_ms.max(MIN_QUEUE_MS);
    let max_samples = (u64::from(format.sample_rate) * u64::from(queue_ms) / 1000) as usize;
    let (sender, queue) = queue::bounded(max_samples);
    let (error_tx, errors) = mpsc::sync_channel(16);
    let stream_config = supported.config();
    let stream = build_stream(
        &device,
        stream_config,
        supported.sample_format(),
        sender,
        error_tx,
    )
    .map_err(|e| open_error(&host, &name, is_default, &e))?;
    stream
        .play()
        .map_err(|e| open_error(&host, &name, is_default, &e))?;
    Ok(Opened {
        stream,
        queue,
        errors,
        device: name,
        format,
    })
}

fn find_device(host: &cpal::Host, wanted: Option<&str>) -> Result<cpal::Device, CaptureError> {
    let Some(wanted) = wanted else {
        let default = host
            .default_input_device()
            .ok_or_else(|| CaptureError::NoMicrophone {
                detail: "the system has no default input".to_owned(),
                available: available_names(host),
            })?;
        // The same device as listed, so it carries the same name as in the list (ALSA's
        // stand-alone default device has a generic one).
        let id = default.id().ok();
        let listed = host
            .input_devices()
            .ok()
            .and_then(|mut devices| devices.find(|d| d.id().ok() == id));
        return Ok(listed.unwrap_or(default));
    };
    let devices: Vec<cpal::Device> = host
        .input_devices()
        .map(|d| d.collect())
        .unwrap_or_default();
    let id_of = |d: &cpal::Device| d.id().map(|id| id.id().to_owned()).unwrap_or_default();
    if let Some(device) = devices
        .iter()
        .find(|d| id_of(d) == wanted || device_name(d) == wanted)
    {
        return Ok(device.clone());
    }
    let needle = wanted.to_lowercase();
    let matches: Vec<&cpal::Device> = devices
        .iter()
        .filter(|d| device_name(d).to_lowercase().contains(&needle))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CaptureError::DeviceNotFound {
            name: wanted.to_owned(),
            available: devices.iter().map(describe).collect(),
        }),
        several => Err(CaptureError::AmbiguousDevice {
            name: wanted.to_owned(),
            matches: several.iter().map(|d| describe(d)).collect(),
        }),
    }
}

fn available_names(host: &cpal::Host) -> Vec<String> {
    host.input_devices()
        .map(|devices| devices.map(|d| describe(&d)).collect())
        .unwrap_or_default()
}

/// `name (id)`, for lists in messages.
fn describe(device: &cpal::Device) -> String {
    let id = device.id().map(|id| id.id().to_owned()).unwrap_or_default();
    format!("{} ({id})", device_name(device))
}

/// The device's name. Not `to_string()`: cpal's `Display` fails (and `to_string` panics) when
/// the device cannot describe itself.
fn device_name(device: &cpal::Device) -> String {
    match device.description() {
        Ok(description) => description.name().to_owned(),
        Err(_) => device
            .id()
            .map(|id| id.id().to_owned())
            .unwrap_or_else(|_| "(unnamed)".into()),
    }
}

fn open_error(
    host: &cpal::Host,
    device: &str,
    is_default: bool,
    error: &cpal::Error,
) -> CaptureError {
    let device = device.to_owned();
    let detail = error.to_string();
    match error.kind() {
        ErrorKind::DeviceBusy => CaptureError::Busy { device },
        ErrorKind::PermissionDenied => CaptureError::PermissionDenied { device, detail },
        ErrorKind::UnsupportedConfig => CaptureError::UnsupportedFormat { device, detail },
        // The system default that cannot be opened is, to the user, no microphone at all.
        _ if is_default => CaptureError::NoMicrophone {
            detail: format!("the default input \"{device}\" cannot be opened: {detail}"),
            available: available_names(host),
        },
        _ => CaptureError::Open { device, detail },
    }
}

fn build_stream(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    format: SampleFormat,
    queue: QueueSender,
    errors: SyncSender<cpal::Error>,
) -> Result<cpal::Stream, cpal::Error> {
    match format {
        SampleFormat::I8 => build::<i8>(device, config, queue, errors),
        SampleFormat::I16 => build::<i16>(device, config, queue, errors),
        SampleFormat::I24 => build::<I24>(device, config, queue, errors),
        SampleFormat::I32 => build::<i32>(device, config, queue, errors),
        SampleFormat::I64 => build::<i64>(device, config, queue, errors),
        SampleFormat::U8 => build::<u8>(device, config, queue, errors),
        SampleFormat::U16 => build::<u16>(device, config, queue, errors),
        SampleFormat::U24 => build::<U24>(device, config, queue, errors),
        SampleFormat::U32 => build::<u32>(device, config, queue, errors),
        SampleFormat::U64 => build::<u64>(device, config, queue, errors),
        SampleFormat::F32 => build::<f32>(device, config, queue, errors),
        SampleFormat::F64 => build::<f64>(device, config, queue, errors),
        other => Err(cpal::Error::with_message(
            ErrorKind::UnsupportedConfig,
            format!("sample format {other} is not PCM"),
        )),
    }
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    queue: QueueSender,
    errors: SyncSender<cpal::Error>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let scale = 1.0 / channels as f32;
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            // Audio thread: no locks, no waiting; the buffer is recycled by the consumer.
            let mut mono = queue.buffer();
            mono.extend(
                data.chunks_exact(channels)
                    .map(|frame| frame.iter().map(|&s| s.to_sample::<f32>()).sum::<f32>() * scale),
            );
            queue.try_push(mono);
        },
        move |error: cpal::Error| {
            let _ = errors.try_send(error);
        },
        // On ALSA this is the poll timeout, after which cpal checks the device state: it
        // catches a disconnect whose POLLHUP never came. Other backends read it as a start-up
        // deadline, which 500 ms would make too tight, so they keep waiting as long as needed.
        cfg!(target_os = "linux").then_some(Duration::from_millis(500)),
    )
}
