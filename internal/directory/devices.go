package directory

import (
	"context"
	"slices"

	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// DeviceSpec is the writable part of a device.
type DeviceSpec struct {
	ID          *string            `json:"id"`
	DisplayName *string            `json:"display_name"`
	Type        *string            `json:"type"`
	Roles       *[]string          `json:"roles"`
	Metadata    *map[string]string `json:"metadata"`
	Disabled    *bool              `json:"disabled"`
}

func (s *Service) applyDevice(ctx context.Context, st store.Store, sp *DeviceSpec, d *store.Device) error {
	if sp.DisplayName != nil {
		if err := checkText("display_name", *sp.DisplayName, 200); err != nil {
			return err
		}
		d.DisplayName = *sp.DisplayName
	}
	if sp.Type != nil {
		if !slices.Contains(DeviceTypes, *sp.Type) {
			return invalidf("type", "must be one of store, kiosk, device, service")
		}
		d.Type = *sp.Type
	}
	if sp.Roles != nil {
		if err := checkRoles(ctx, st, d.Tenant, "roles", *sp.Roles); err != nil {
			return err
		}
		d.Roles = clean(*sp.Roles)
	}
	if sp.Metadata != nil {
		if len(*sp.Metadata) > 64 {
			return invalidf("metadata", "at most 64 entries")
		}
		for k, v := range *sp.Metadata {
			if k == "" || len(k) > 64 || len(v) > 1024 {
				return invalidf("metadata", "keys must be 1 to 64 bytes and values at most 1024 bytes")
			}
		}
		d.Metadata = *sp.Metadata
	}
	if sp.Disabled != nil {
		d.Disabled = *sp.Disabled
	}
	return nil
}

// CreateDevice registers a device and returns its generated secret, once.
func (s *Service) CreateDevice(ctx context.Context, by Actor, tenant string, sp DeviceSpec) (store.Device, string, error) {
	id := token.NewID()
	if sp.ID != nil {
		id = *sp.ID
	}
	if err := checkID("id", id); err != nil {
		return store.Device{}, "", err
	}
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.Device{}, "", err
	}
	now := s.stamp()
	d := store.Device{Tenant: tenant, ID: id, Type: "device", Roles: []string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err := s.applyDevice(ctx, s.st, &sp, &d); err != nil {
		return store.Device{}, "", err
	}
	secret, hash := principal.NewSecret(token.TagDeviceSecret)
	d.SecretHash, d.SecretAlg = hash, store.SecretSHA256
	err := s.change(ctx, by, tenant, "device.create", d.ID, map[string]string{"type": d.Type}, func(st store.Store) error {
		return conflict(st.Devices().Create(ctx, d), "device %q already exists", d.ID)
	})
	if err != nil {
		return store.Device{}, "", err
	}
	return d, secret, nil
}

// Device returns one device.
func (s *Service) Device(ctx context.Context, tenant, id string) (store.Device, error) {
	d, err := s.st.Devices().Get(ctx, tenant, id)
	return d, notFound(err, "device", id)
}

// Devices lists a tenant's devices.
func (s *Service) Devices(ctx context.Context, tenant string, pg store.Page) ([]store.Device, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Devices().List(ctx, tenant, pg)
	return l, storeErr(err)
}

// UpdateDevice changes a device.
func (s *Service) UpdateDevice(ctx context.Context, by Actor, tenant, id string, sp DeviceSpec) (store.Device, error) {
	if sp.ID != nil && *sp.ID != id {
		return store.Device{}, invalidf("id", "cannot be changed")
	}
	var out store.Device
	err := s.change(ctx, by, tenant, "device.update", id, nil, func(st store.Store) error {
		d, err := st.Devices().Get(ctx, tenant, id)
		if err != nil {
			return notFound(err, "device", id)
		}
		if err := s.applyDevice(ctx, st, &sp, &d); err != nil {
			return err
		}
		d.UpdatedAt = s.stamp()
		out = d
		return st.Devices().Update(ctx, d)
	})
	return out, err
}

// RotateDeviceSecret replaces a device's secret with a generated one.
func (s *Service) RotateDeviceSecret(ctx context.Context, by Actor, tenant, id string) (string, error) {
	secret, hash := principal.NewSecret(token.TagDeviceSecret)
	err := s.change(ctx, by, tenant, "device.rotate_secret", id, nil, func(st store.Store) error {
		d, err := st.Devices().Get(ctx, tenant, id)
		if err != nil {
			return notFound(err, "device", id)
		}
		d.SecretHash, d.SecretAlg, d.UpdatedAt = hash, store.SecretSHA256, s.stamp()
		return st.Devices().Update(ctx, d)
	})
	return secret, err
}

// DeleteDevice deletes a device.
func (s *Service) DeleteDevice(ctx context.Context, by Actor, tenant, id string) error {
	return s.change(ctx, by, tenant, "device.delete", id, nil, func(st store.Store) error {
		return notFound(st.Devices().Delete(ctx, tenant, id), "device", id)
	})
}
