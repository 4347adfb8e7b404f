package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/emersion/go-vcard"
	"github.com/go-chi/chi/v5"

	"sportello/store"
	"sportello/views"
)

// canEditContacts: the address book is shared; managers of any account
// (and administrators) edit it, everybody signed in reads it.
func (s *Server) canEditContacts(r *http.Request) (bool, error) {
	u := currentUser(r.Context())
	if u.IsAdmin {
		return true, nil
	}
	accounts, err := s.store.Users.AccountsOf(r.Context(), u.ID)
	if err != nil {
		return false, err
	}
	for _, a := range accounts {
		if a.Role == store.RoleManager {
			return true, nil
		}
	}
	return false, nil
}

func (s *Server) contactsShow(w http.ResponseWriter, r *http.Request) {
	s.renderContacts(w, r, http.StatusOK, "")
}

func (s *Server) renderContacts(w http.ResponseWriter, r *http.Request, status int, problem string) {
	list, err := s.store.Contacts().List(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	edit, err := s.canEditContacts(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p, err := s.page(r, views.T(r.Context(), "Address book"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, views.ContactsPage(p, views.ContactsView{Contacts: list, CanEdit: edit, Q: r.URL.Query().Get("q"), Error: problem}))
}

// contactsSuggest answers the compose page's autocomplete as JSON.
func (s *Server) contactsSuggest(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.Contacts().Suggest(r.Context(), r.URL.Query().Get("q"), 8)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	type item struct {
		Email string `json:"email"`
		Name  string `json:"name"`
		PEC   bool   `json:"pec"`
	}
	out := make([]item, 0, len(list))
	for _, c := range list {
		out = append(out, item{c.Email, c.Name, c.IsPEC})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) contactEditor(w http.ResponseWriter, r *http.Request) bool {
	edit, err := s.canEditContacts(r)
	if err != nil {
		s.serverError(w, r, err)
		return false
	}
	if !edit {
		s.fail(w, r, http.StatusForbidden, "You are not allowed to do that.")
		return false
	}
	return true
}

func (s *Server) contactPut(w http.ResponseWriter, r *http.Request) {
	if !s.contactEditor(w, r) {
		return
	}
	c := store.Contact{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), IsPEC: r.PostFormValue("pec") == "1", Note: r.PostFormValue("note")}
	if err := s.store.Contacts().Put(r.Context(), c); err != nil {
		s.renderContacts(w, r, http.StatusUnprocessableEntity, views.T(r.Context(), "That is not an e-mail address."))
		return
	}
	http.Redirect(w, r, "/contacts", http.StatusSeeOther)
}

func (s *Server) contactDelete(w http.ResponseWriter, r *http.Request) {
	if !s.contactEditor(w, r) {
		return
	}
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err := s.store.Contacts().Delete(r.Context(), id); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/contacts", http.StatusSeeOther)
}

// contactsImport reads a vCard (.vcf) or CSV (name,email[,pec]) file.
func (s *Server) contactsImport(w http.ResponseWriter, r *http.Request) {
	if !s.contactEditor(w, r) {
		return
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		s.renderContacts(w, r, http.StatusBadRequest, views.T(r.Context(), "Choose a .vcf or .csv file."))
		return
	}
	defer f.Close()
	var contacts []store.Contact
	if strings.HasSuffix(strings.ToLower(fh.Filename), ".csv") {
		contacts, err = readCSVContacts(f)
	} else {
		contacts, err = readVCards(f)
	}
	if err != nil {
		s.renderContacts(w, r, http.StatusUnprocessableEntity, views.T(r.Context(), "The file could not be read: ")+err.Error())
		return
	}
	for _, c := range contacts {
		if err := s.store.Contacts().Put(r.Context(), c); err != nil {
			continue // a line without an address
		}
	}
	http.Redirect(w, r, "/contacts", http.StatusSeeOther)
}

func readVCards(rd io.Reader) ([]store.Contact, error) {
	dec := vcard.NewDecoder(rd)
	var out []store.Contact
	for {
		card, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		name := card.PreferredValue(vcard.FieldFormattedName)
		for _, email := range card.Values(vcard.FieldEmail) {
			out = append(out, store.Contact{Email: email, Name: name, IsPEC: card.Value("X-PEC") == "1"})
		}
	}
}

func readCSVContacts(rd io.Reader) ([]store.Contact, error) {
	records, err := csv.NewReader(rd).ReadAll()
	if err != nil {
		return nil, err
	}
	var out []store.Contact
	for i, rec := range records {
		if len(rec) < 2 || (i == 0 && strings.EqualFold(strings.TrimSpace(rec[1]), "email")) {
			continue
		}
		c := store.Contact{Name: rec[0], Email: rec[1]}
		if len(rec) > 2 {
			c.IsPEC = rec[2] == "1" || strings.EqualFold(rec[2], "true") || strings.EqualFold(rec[2], "pec")
		}
		out = append(out, c)
	}
	return out, nil
}

// contactsExport writes the address book as vCard 4.0.
func (s *Server) contactsExport(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.Contacts().List(r.Context(), "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/vcard; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sportello-contacts.vcf"`)
	enc := vcard.NewEncoder(w)
	for _, c := range list {
		card := vcard.Card{}
		card.SetValue(vcard.FieldVersion, "4.0")
		name := c.Name
		if name == "" {
			name = c.Email
		}
		card.SetValue(vcard.FieldFormattedName, name)
		card.SetValue(vcard.FieldEmail, c.Email)
		if c.IsPEC {
			card.SetValue("X-PEC", "1")
		}
		if err := enc.Encode(card); err != nil {
			return
		}
	}
}
