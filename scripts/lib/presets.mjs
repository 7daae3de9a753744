// Preprocessing presets for models from common toolchains, and importers for the configs
// those toolchains write. Every field maps onto the manifest's `preprocess` block.
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

export const PRESETS = {
  // timm defaults for ViT/DeiT-style ImageNet models.
  timm: { size: 224, resize: 'shortest_edge', crop_pct: 0.875, interpolation: 'bicubic', channel_order: 'RGB', scale: 1 / 255, mean: IMAGENET_MEAN, std: IMAGENET_STD },
  // torchvision's classic ImageNet eval transform.
  torchvision: { size: 224, resize: 'shortest_edge', crop_pct: 0.875, interpolation: 'bilinear', channel_order: 'RGB', scale: 1 / 255, mean: IMAGENET_MEAN, std: IMAGENET_STD },
  // Caffe-era CNNs: BGR, 0..255 minus per-channel means, no std.
  'caffe-bgr': { size: 224, resize: 'shortest_edge', crop_pct: 0.875, interpolation: 'bilinear', channel_order: 'BGR', scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1] },
  cifar10: { size: 32, resize: 'shortest_edge', crop_pct: 1, interpolation: 'bilinear', channel_order: 'RGB', scale: 1 / 255, mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
};

const HF_RESAMPLE = { 0: 'nearest', 2: 'bilinear', 3: 'bicubic' };

/** Hugging Face `preprocessor_config.json` (ViTImageProcessor, ConvNextImageProcessor, ...). */
export function fromHuggingFace(cfg) {
  const size = cfg.crop_size?.height ?? cfg.crop_size ?? cfg.size?.height ?? cfg.size?.shortest_edge ?? cfg.size ?? 224;
  const shortest = cfg.size?.shortest_edge;
  const cropped = cfg.do_center_crop !== false && (cfg.crop_size !== undefined || cfg.crop_pct !== undefined);
  return {
    size: Number(size),
    resize: cropped || shortest ? 'shortest_edge' : 'direct',
    crop_pct: cfg.crop_pct ?? (shortest && cfg.crop_size ? Number(size) / shortest : 1),
    interpolation: HF_RESAMPLE[cfg.resample] ?? 'bilinear',
    channel_order: 'RGB',
    scale: cfg.do_rescale === false ? 1 : (cfg.rescale_factor ?? 1 / 255),
    mean: cfg.do_normalize === false ? [0, 0, 0] : (cfg.image_mean ?? [0.5, 0.5, 0.5]),
    std: cfg.do_normalize === false ? [1, 1, 1] : (cfg.image_std ?? [0.5, 0.5, 0.5]),
  };
}

/** timm's `pretrained_cfg` / `config.json` (input_size, interpolation, crop_pct, mean, std). */
export function fromTimm(cfg) {
  const pc = cfg.pretrained_cfg ?? cfg;
  const inputSize = pc.test_input_size ?? pc.input_size ?? [3, 224, 224];
  return {
    size: inputSize[inputSize.length - 1],
    resize: (pc.crop_mode ?? 'center') === 'squash' ? 'direct' : 'shortest_edge',
    crop_pct: pc.test_crop_pct ?? pc.crop_pct ?? 0.875,
    interpolation: pc.interpolation ?? 'bicubic',
    channel_order: 'RGB',
    scale: 1 / 255,
    mean: pc.mean ?? IMAGENET_MEAN,
    std: pc.std ?? IMAGENET_STD,
  };
}
